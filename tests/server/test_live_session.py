"""/v1/live: a file fed at its real pace streams every frame as a JSON line; one session at a time; Stop ends the
stream; a missing microphone is one clear answer; the same Host/token rules as every route."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.audio.features import frame_count
from tests.server.conftest import make_client, wait_ready, wav_bytes


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("live"), token="tok-live") as c:
        c.headers["Authorization"] = "Bearer tok-live"
        wait_ready(c.get)
        yield c


def form(**fields: str) -> dict:  # type: ignore[type-arg]
    """Fields only, as multipart (what the add-on sends; httpx would send them url-encoded)."""
    from addon.client import encode_multipart

    body, ctype = encode_multipart({}, fields)
    return {"content": body, "headers": {"content-type": ctype}}


def lines(client: TestClient, live_id: str) -> list[dict]:  # type: ignore[type-arg]
    with client.stream("GET", f"/v1/live/{live_id}/stream") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(x) for x in r.iter_lines() if x.strip()]


def test_a_file_streams_every_frame_in_order_then_ends(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/v1/live", files={"audio": ("line.wav", wav_bytes(1.2))}, data={"fps": "30"})
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["state"] == "running" and s["lookahead_s"] > 0 and s["input"] == "file"
    t0 = time.perf_counter()
    got = lines(client, s["id"])
    took = time.perf_counter() - t0
    assert got[0]["event"] == "started" and got[0]["wall"] > 0
    assert got[-1]["event"] == "ended"
    frames = [x for x in got if "frame" in x]
    assert [f["frame"] for f in frames] == list(range(frame_count(1.2, 30.0)))
    assert all(len(f["arkit"]) == 52 and len(f["pose"]) == 6 and len(f["blink"]) == 2 for f in frames)
    assert took > 0.8  # fed at its real pace, not all at once
    assert client.get(f"/v1/live/{s['id']}").json()["state"] == "ended"


def test_one_session_at_a_time_and_stop_ends_the_stream(client: TestClient) -> None:
    first = client.post("/v1/live", files={"audio": ("long.wav", wav_bytes(8.0))}).json()
    busy = client.post("/v1/live", files={"audio": ("b.wav", wav_bytes(1.0))})
    assert busy.status_code == 409 and busy.json()["error"] == "live_busy"
    time.sleep(0.5)
    stopped = client.delete(f"/v1/live/{first['id']}")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    got = lines(client, first["id"])
    assert got[-1]["event"] == "stopped" and len([x for x in got if "frame" in x]) < frame_count(8.0, 30.0)


def test_a_live_session_takes_the_take_s_blink_gaze_and_brow_settings(client: TestClient) -> None:
    from core.face.arkit import ARKIT_NAMES

    for field, bad in (("brows", "maybe"), ("gaze", "sideways"), ("blink_rate", "-3")):
        r = client.post("/v1/live", files={"audio": ("line.wav", wav_bytes(1.0))}, data={field: bad})
        assert r.status_code == 422 and r.json()["error"] == "invalid_request" and field in r.json()["message"]
    r = client.post("/v1/live", files={"audio": ("line.wav", wav_bytes(2.0))},
                    data={"blink_rate": "0", "gaze": "off", "brows": "false", "head_motion": "0"})
    assert r.status_code == 201, r.text
    frames = [x for x in lines(client, r.json()["id"]) if "frame" in x]
    looks = [i for i, n in enumerate(ARKIT_NAMES) if n.startswith("eyeLook")]
    assert frames and all(f["blink"] == [0.0, 0.0] and f["pose"] == [0.0] * 6 for f in frames)
    assert all(not any(f["arkit"][i] for i in looks) for f in frames)  # gaze off: the eyes stay still


def test_no_microphone_is_one_clear_answer(client: TestClient) -> None:
    r = client.post("/v1/live", **form(input="mic", device="no-such-device-xyz"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "live_input" and "mic" in body["message"]


def test_bad_requests_and_unknown_sessions(client: TestClient) -> None:
    assert client.post("/v1/live", **form(input="file")).json()["error"] == "invalid_request"
    assert client.post("/v1/live", **form(input="radio")).status_code == 422
    assert client.post("/v1/live", **form(fps="1000")).status_code == 422
    assert client.get("/v1/live/" + "0" * 32 + "/stream").status_code == 404
    assert client.delete("/v1/live/nope").json()["error"] == "live_not_found"


def test_the_guard_applies(client: TestClient) -> None:
    f = form(input="mic")
    no_token = client.post("/v1/live", content=f["content"], headers={**f["headers"], "Authorization": ""})
    assert no_token.status_code == 401
    other = client.post("/v1/live", content=f["content"], headers={**f["headers"], "Origin": "http://evil.example"})
    assert other.status_code == 403
