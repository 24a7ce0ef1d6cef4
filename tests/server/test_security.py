"""Safe by default: loopback bind, token, Host allowlist, Origin check, size limit — in process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.config import ServerConfig, is_loopback
from server.security import host_name
from tests.server.conftest import TOKEN, make_client, wait_ready, wav_bytes

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("sec"), token=TOKEN, max_upload_bytes=64 * 1024,
                     allow_hosts=("parley.lan",)) as c:
        wait_ready(lambda p: c.get(p, headers=AUTH))
        yield c


def test_defaults_are_loopback_and_non_loopback_needs_a_token() -> None:
    cfg = ServerConfig()
    assert cfg.host == "127.0.0.1" and cfg.token is None and cfg.check() == []
    lan = ServerConfig(host="0.0.0.0")
    notes = lan.check()
    assert lan.token and len(lan.token) >= 24 and lan.token in notes[0]
    given = ServerConfig(host="192.168.1.20", token="mine")
    assert given.check() == [] and given.token == "mine" and "192.168.1.20" in given.allowed_hosts()
    assert is_loopback("::1") and is_loopback("127.0.0.2") and not is_loopback("10.0.0.1")
    with pytest.raises(ValueError, match="--workers"):
        ServerConfig(workers=0).check()


def test_host_name_parsing() -> None:
    assert host_name("LOCALHOST:8765") == "localhost"
    assert host_name("[::1]:8765") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1"


@pytest.mark.parametrize("path", ["/v1/ready", "/v1/models", "/v1/openapi.json", "/v1/jobs/" + "0" * 32])
def test_token_guards_everything_but_health(guarded: TestClient, path: str) -> None:
    assert guarded.get("/v1/health").status_code == 200
    r = guarded.get(path)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized" and r.headers["www-authenticate"] == "Bearer"
    assert guarded.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get(path, headers={"Authorization": TOKEN}).status_code == 401  # scheme missing
    assert guarded.get(path, headers=AUTH).status_code in (200, 404)


def test_post_without_token_is_refused_before_upload(guarded: TestClient) -> None:
    r = guarded.post("/v1/animate", files={"audio": ("a.wav", wav_bytes())})
    assert r.status_code == 401


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example", ""])
def test_host_allowlist_stops_dns_rebinding(guarded: TestClient, host: str) -> None:
    r = guarded.get("/v1/health", headers={"Host": host})
    assert r.status_code == 400 and r.json()["error"] == "bad_host"


@pytest.mark.parametrize("host", ["localhost:8765", "127.0.0.1", "[::1]:8765", "parley.lan:8765"])
def test_allowed_hosts(guarded: TestClient, host: str) -> None:
    assert guarded.get("/v1/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("origin", ["null", "https://evil.example", "http://evil.example:8765", "file://", "x",
                                    "http://localhost:3000", "http://localhost", "https://localhost:8765",
                                    "http://127.0.0.1:8080"])
def test_cross_origin_requests_are_refused(guarded: TestClient, origin: str) -> None:
    for method in ("get", "post", "delete"):
        r = getattr(guarded, method)("/v1/health", headers={"Origin": origin, **AUTH})
        assert r.status_code == 403 and r.json()["error"] == "forbidden_origin"


def test_an_origin_is_scheme_host_and_port() -> None:
    """Any page on localhost is not the server: another port (a dev server, a notebook) is another site."""
    from server.security import same_origin

    hosts = {"localhost", "127.0.0.1", "::1"}
    assert same_origin("http://localhost:8765", "localhost:8765", "http", hosts)
    assert same_origin("http://[::1]:8765", "[::1]:8765", "http", hosts)
    assert same_origin("http://127.0.0.1", "127.0.0.1:80", "http", hosts)  # the default port written or not
    assert not same_origin("http://localhost:3000", "localhost:8765", "http", hosts)
    assert not same_origin("https://localhost:8765", "localhost:8765", "http", hosts)
    assert not same_origin("http://localhost:8765", "localhost:8766", "http", hosts)


def test_same_origin_and_fetch_metadata(guarded: TestClient) -> None:
    assert guarded.get("/v1/ready", headers={"Origin": "http://localhost:8765", **AUTH}).status_code == 200
    r = guarded.get("/v1/ready", headers={"Sec-Fetch-Site": "cross-site", **AUTH})
    assert r.status_code == 403


def test_body_limit(guarded: TestClient) -> None:
    big = b"\0" * (70 * 1024)
    r = guarded.post("/v1/animate", files={"audio": ("a.wav", big)}, headers=AUTH)
    assert r.status_code == 413 and r.json()["error"] == "too_large" and "MB limit" in r.json()["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        yield b"--b\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.wav\"\r\n\r\n"
        for _ in range(20):
            yield b"\0" * 8192

    r = guarded.post("/v1/animate", content=chunks(),
                     headers={"content-type": "multipart/form-data; boundary=b", **AUTH})
    assert r.status_code == 413 and r.json()["error"] == "too_large"


def test_uploads_stay_in_the_results_dir(tmp_path: Path) -> None:
    with make_client(tmp_path) as c:
        wait_ready(c.get)
        r = c.post("/v1/animate", files={"audio": ("../../evil.wav", wav_bytes())})
        job = r.json()["id"]
        assert sorted(p.name for p in (tmp_path / job).iterdir() if p.name != "job.json")[0] == "audio.bin"
        assert not (tmp_path.parent / "evil.wav").exists()
