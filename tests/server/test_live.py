"""Against a real ``parley serve`` on 127.0.0.1: security, bad inputs, 16 clients, disconnects, SIGTERM drain."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from core.audio.features import frame_count
from tests.server.conftest import (
    TOKEN,
    Live,
    blank_png,
    silent_wav,
    small_face_png,
    start_live,
    wav_bytes,
)


def wait_state(c: httpx.Client, job_id: str, states: tuple[str, ...] = ("done", "failed", "cancelled"),
               timeout: float = 120) -> dict:  # type: ignore[type-arg]
    t0 = time.time()
    while time.time() - t0 < timeout:
        s = c.get(f"/v1/jobs/{job_id}").json()
        if s["state"] in states:
            return dict(s)
        time.sleep(0.05)
    raise TimeoutError(job_id)


def raw_request(port: int, head: str, body: bytes = b"", read_timeout: float = 10) -> tuple[int, str]:
    """Send bytes on a socket; return the status and the response text (for what httpx will not send)."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        s.sendall(head.encode() + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.find(b"\r\n\r\n") + 4 + _length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]), data.decode(errors="replace")


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_security_over_http(live: Live) -> None:
    with httpx.Client(base_url=live.url) as anon:
        assert anon.get("/v1/health").status_code == 200
        assert anon.get("/v1/ready").status_code == 401
        assert anon.get("/v1/openapi.json").status_code == 401
    with live.client() as c:
        assert c.get("/v1/ready").status_code == 200
        assert c.get("/v1/health", headers={"Host": "attacker.example"}).json()["error"] == "bad_host"
        assert c.get("/v1/ready", headers={"Origin": "null"}).status_code == 403
        assert c.get("/v1/ready", headers={"Origin": "https://attacker.example"}).status_code == 403
        assert c.get("/v1/ready", headers={"Origin": f"http://localhost:{live.port}"}).status_code == 200


def test_413_is_answered_before_the_body_is_sent(live: Live) -> None:
    head = (f"POST /v1/animate HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000000\r\n\r\n")
    t0 = time.perf_counter()
    status, text = raw_request(live.port, head)  # not one byte of the 10 GB body is sent
    assert status == 413 and '"too_large"' in text and time.perf_counter() - t0 < 5


def test_chunked_upload_over_the_limit(live: Live) -> None:
    def body():  # type: ignore[no-untyped-def]
        yield b"--b\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.wav\"\r\n\r\n"
        for _ in range(100):
            yield b"\0" * 65536  # 6.5 MB against a 5 MB limit

    with live.client() as c:
        try:
            r = c.post("/v1/animate", content=body(), headers={"content-type": "multipart/form-data; boundary=b"})
        except httpx.WriteError:  # the server may close before the client has finished sending
            return
        assert r.status_code == 413 and r.json()["error"] == "too_large"


@pytest.mark.parametrize(("files", "code", "start"), [
    ({"audio": ("voice.mp3", b"ID3 not audio" * 50)}, "audio_decode_error", "voice.mp3: "),
    ({"audio": ("quiet.wav", silent_wav())}, "audio_decode_error", "quiet.wav: the audio is silent"),
    ({"audio": ("a.wav", wav_bytes()), "face": ("wall.png", blank_png())}, "face_not_found", "wall.png: no face"),
    ({"audio": ("a.wav", wav_bytes()), "face": ("me.png", b"\x89PNG broken")}, "image_decode_error", "me.png: "),
    ({"audio": ("a.wav", wav_bytes()), "face": ("tiny.png", small_face_png())}, "face_too_small", "tiny.png: "),
])
def test_bad_inputs_over_http(live: Live, files: dict, code: str, start: str) -> None:  # type: ignore[type-arg]
    with live.client() as c:
        r = c.post("/v1/animate", files=files, params={"wait": "true"})
        assert r.status_code == 422, r.text  # waiting on bad input answers the input's 4xx, with the job's status
        err = r.json()["error"]
        assert err["error"] == code and err["message"].startswith(start), err
        assert c.get(f"/v1/jobs/{r.json()['id']}/result").status_code == 422
        r = c.post("/v1/animate", files={"audio": ("a.wav", b"x")}, data={"fps": "1000"})
        assert r.status_code == 422 and r.json()["error"] == "invalid_request"


def test_sixteen_concurrent_clients(live: Live) -> None:
    """Each client sends a clip of its own length and must get back exactly its own result (or 503 + Retry-After)."""
    outcomes: dict[int, str] = {}
    refusals: list[int] = []

    def client(i: int) -> None:
        seconds = 1.0 + 0.1 * i
        with live.client() as c:
            for _attempt in range(30):
                r = c.post("/v1/animate", files={"audio": (f"client{i}.wav", wav_bytes(seconds, seed=i))},
                           data={"fps": "25"})
                if r.status_code == 503:
                    assert r.json()["error"] == "queue_full" and int(r.headers["retry-after"]) >= 1
                    refusals.append(i)
                    time.sleep(min(1.0, int(r.headers["retry-after"])))
                    continue
                assert r.status_code == 202, r.text
                s = wait_state(c, r.json()["id"])
                assert s["state"] == "done", s
                res = c.get(f"/v1/jobs/{s['id']}/result", params={"landmarks": "false"}).json()
                meta = json.loads(res["meta"])
                frames = frame_count(int(seconds * 16000) / 16000, 25)
                ok = meta["audio"]["source"] == f"client{i}.wav" and len(res["expression"]) == frames
                outcomes[i] = "ok" if ok else f"wrong result: {meta['audio']['source']}, {len(res['expression'])}"
                return
            outcomes[i] = "never admitted"

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert outcomes == {i: "ok" for i in range(16)}
    assert refusals, "16 clients against 2 workers + 4 queued should have met a full queue"


def test_disconnected_client_cancels_its_job(live: Live, long_video: bytes) -> None:
    before = set(live.results.iterdir())
    with live.client(timeout=httpx.Timeout(60, read=1.5)) as c:  # give up waiting after 1.5 s
        with pytest.raises(httpx.ReadTimeout):
            c.post("/v1/animate", params={"wait": "true"},
                   files={"audio": ("a.wav", wav_bytes()), "face": ("long.mp4", long_video)})
    new = [p for p in live.results.iterdir() if p not in before and (p / "job.json").is_file()]
    assert len(new) == 1
    t0 = time.time()
    while json.loads((new[0] / "job.json").read_text())["state"] != "cancelled":
        assert time.time() - t0 < 10, json.loads((new[0] / "job.json").read_text())
        time.sleep(0.1)
    with live.client() as c:  # its slot is free: the server takes and runs new work
        r = c.post("/v1/animate", files={"audio": ("a.wav", wav_bytes())}, params={"wait": "true"})
        assert r.json()["state"] == "done"


def test_sigterm_drains_then_restart_serves_the_result(tmp_path: Path, long_video: bytes) -> None:
    srv = start_live(tmp_path, "--workers", "1", "--drain-grace", "3")
    with srv.client() as c:
        job = c.post("/v1/animate", files={"audio": ("a.wav", wav_bytes()), "face": ("v.mp4", long_video)}).json()
        wait_state(c, job["id"], ("running",))
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        r = c.post("/v1/animate", files={"audio": ("b.wav", wav_bytes())})
        assert r.status_code == 503 and r.json()["error"] == "shutting_down" and "retry-after" in r.headers
        assert c.get("/v1/ready").status_code == 503
        s = wait_state(c, job["id"])
        assert s["state"] == "done", s  # the in-flight job was allowed to finish
        assert c.get(f"/v1/jobs/{job['id']}/result", params={"landmarks": "false"}).status_code == 200
    assert srv.proc.wait(30) == 0
    again = start_live(tmp_path, "--workers", "1")
    try:
        with again.client() as c:
            assert c.get(f"/v1/jobs/{job['id']}").json()["state"] == "done"
            assert c.get(f"/v1/jobs/{job['id']}/result", params={"format": "npz"}).status_code == 200
    finally:
        assert again.stop() == 0
