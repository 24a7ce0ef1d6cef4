"""The /v1 routes in process: results follow the contract, each bad input keeps its class and message."""

from __future__ import annotations

import io
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from core.contract import AnimationResult, check_contract
from tests.server.conftest import (
    blank_png,
    demo_face,
    fixture_video,
    make_client,
    silent_wav,
    small_face_png,
    wait_ready,
    wav_bytes,
)


def run_job(c: TestClient, files: dict, data: dict | None = None) -> dict:  # type: ignore[type-arg]
    r = c.post("/v1/animate", files=files, data=data or {})
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/jobs/{r.json()['id']}"
    job_id = r.json()["id"]
    for _ in range(600):
        s = c.get(f"/v1/jobs/{job_id}").json()
        assert 0.0 <= s["progress"] <= 1.0
        if s["state"] in ("done", "failed", "cancelled"):
            return dict(s)
        time.sleep(0.05)
    raise TimeoutError(job_id)


def result_of(c: TestClient, job_id: str) -> AnimationResult:
    body = c.get(f"/v1/jobs/{job_id}/result").json()
    arr = {k: np.asarray(body[k], np.float32) for k in ("expression", "pose", "blink", "landmarks", "arkit")}
    return AnimationResult(body["fps"], meta=json.loads(body["meta"]), **arr)


def test_health_ready_openapi(client: TestClient) -> None:
    assert client.get("/v1/health").json()["status"] == "ok"
    assert client.get("/v1/ready").json()["ready"] is True
    spec = client.get("/v1/openapi.json").json()
    assert set(spec["paths"]) == {"/v1/health", "/v1/ready", "/v1/models", "/v1/reconstruct", "/v1/animate",
                                  "/v1/render", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/result", "/v1/live",
                                  "/v1/live/{live_id}", "/v1/live/{live_id}/stream"}
    assert "multipart/form-data" in spec["paths"]["/v1/animate"]["post"]["requestBody"]["content"]


def test_models_lists_checkpoints_and_cards(client: TestClient) -> None:
    body = client.get("/v1/models").json()
    names = {m["name"]: m for m in body["models"]}
    assert {"landmark_pca", "expression", "motion", "blink", "smoother"} <= set(names)
    assert names["expression"]["kind"] == "parley.expression" and len(names["expression"]["sha256"]) == 16
    assert "unseen_aperture_r_lag0" in names["expression"]["metrics"]
    from core.loading import ASSETS

    chosen = json.loads((ASSETS / "smoothing.json").read_text())["choice"]  # written by `parley train smoother`
    assert "MODEL_CARD_motion.md" in body["cards"] and body["smoothing"] == chosen
    assert len(names["expression"]["provenance"]["git_commit"]) >= 40  # how the shipped checkpoint was made


@pytest.mark.parametrize("fps", [24.0, 29.97])
def test_animate_default_face_follows_contract(client: TestClient, fps: float) -> None:
    s = run_job(client, {"audio": ("line one.wav", wav_bytes(1.7))}, {"fps": str(fps), "seed": "3",
                                                                     "articulation": "1.5"})
    assert s["state"] == "done" and s["progress"] == 1.0 and s["result_url"]
    res = result_of(client, s["id"])
    check_contract(res, 1.7)
    assert res.frames == math.ceil(1.7 * fps - 1e-9)
    assert res.meta["audio"]["source"] == "line one.wav" and res.meta["face"] == "built-in portrait"
    assert res.meta["seed"] == 3 and res.meta["articulation"] == 1.5
    npz = client.get(f"/v1/jobs/{s['id']}/result", params={"format": "npz"})
    assert npz.headers["content-type"] == "application/x-npz"
    with np.load(io.BytesIO(npz.content)) as z:
        np.testing.assert_allclose(z["expression"], res.expression, atol=1e-6)
        assert z["landmarks"].shape == (res.frames, 468, 3)
    light = client.get(f"/v1/jobs/{s['id']}/result", params={"landmarks": "false"}).json()
    assert "landmarks" not in light and len(light["expression"]) == res.frames
    small = client.get(f"/v1/jobs/{s['id']}/result", params={"format": "npz", "landmarks": "false"})
    assert small.status_code == 200 and len(small.content) < len(npz.content) / 10
    with np.load(io.BytesIO(small.content)) as z:
        assert "landmarks" not in z.files and z["expression"].shape == (res.frames, 20)


def test_animate_with_photo_video_and_transcript(client: TestClient) -> None:
    s = run_job(client, {"audio": ("a.wav", wav_bytes(1.0)), "face": ("me.jpg", demo_face())},
                {"text": "Bonjour papa", "language": "fr"})
    res = result_of(client, s["id"])
    assert res.meta["face"] == "me.jpg" and res.meta["transcript"] == "Bonjour papa"
    assert res.meta["script"]["language"] == "fr" and res.meta["script"]["words"] == 2
    assert res.meta["head_style"].startswith("default")
    s = run_job(client, {"audio": ("a.wav", wav_bytes(1.0)), "face": ("clip.bin", fixture_video())})
    res = result_of(client, s["id"])
    assert res.meta["head_style"] == "reference video"  # sniffed as a video although named .bin
    check_contract(res, 1.0)


BAD_INPUTS = [
    ({"audio": ("voice.wav", b"RIFF not really a wave file" * 20)}, {}, "audio_decode_error", "voice.wav: "),
    ({"audio": ("empty.wav", b"")}, {}, "audio_decode_error", "empty.wav: the file is empty"),
    ({"audio": ("quiet.wav", silent_wav())}, {}, "audio_decode_error", "quiet.wav: the audio is silent"),
    ({"audio": ("long.wav", wav_bytes(21.0))}, {}, "audio_decode_error", "over the 0.3 min limit"),
    ({"audio": ("a.wav", wav_bytes()), "face": ("wall.png", blank_png())}, {}, "face_not_found", "wall.png: no face"),
    ({"audio": ("a.wav", wav_bytes()), "face": ("tiny.png", small_face_png())}, {}, "face_too_small", "tiny.png: "),
    ({"audio": ("a.wav", wav_bytes()), "face": ("me.jpg", b"\xff\xd8 not a jpeg")}, {}, "image_decode_error",
     "me.jpg: not an image"),
]


@pytest.mark.parametrize(("files", "data", "code", "message"), BAD_INPUTS)
def test_bad_inputs_fail_their_job_with_their_own_message(
    client: TestClient, files: dict, data: dict, code: str, message: str  # type: ignore[type-arg]
) -> None:
    s = run_job(client, files, data)
    assert s["state"] == "failed" and s["error"]["error"] == code, s
    assert message in s["error"]["message"] and "/" not in s["error"]["message"].split(":")[0]
    r = client.get(f"/v1/jobs/{s['id']}/result")
    assert r.status_code == 422 and r.json() == s["error"]


@pytest.mark.parametrize(("files", "data", "status", "code"), [
    ({"audio": ("a.wav", b"x")}, {"fps": "abc"}, 422, "invalid_request"),
    ({"audio": ("a.wav", b"x")}, {"fps": "0.5"}, 422, "invalid_request"),
    ({"audio": ("a.wav", b"x")}, {"fps": "nan"}, 422, "invalid_request"),
    ({"audio": ("a.wav", b"x")}, {"seed": "-1"}, 422, "invalid_request"),
    ({"audio": ("a.wav", b"x")}, {"articulation": "2.5"}, 422, "invalid_request"),
    ({"audio": ("a.wav", b"x")}, {"articulation": "loud"}, 422, "invalid_request"),
    ({"face": ("f.png", b"x")}, {}, 422, "invalid_request"),
    ({"audio": ("a.wav", b"x"), "voice": ("b.wav", b"x")}, {}, 400, "bad_multipart"),
    ({"audio": ("a.wav", b"x")}, {"colour": "red"}, 400, "bad_multipart"),
    ({"audio": ("a.wav", b"x")}, {"text": "y" * (65 * 1024)}, 400, "bad_multipart"),
    ({"audio": ("a.wav", b"x")}, {"text": "hola", "language": "xx"}, 422, "invalid_request"),
    ({"audio": ("a.wav", b"x")}, {"text": "word " * 5000}, 422, "invalid_request"),
])
def test_bad_requests_are_refused_before_a_job(
    client: TestClient, files: dict, data: dict, status: int, code: str  # type: ignore[type-arg]
) -> None:
    r = client.post("/v1/animate", files=files, data=data)
    assert r.status_code == status and r.json()["error"] == code, r.text
    assert r.json()["message"]


def test_multipart_part_limits(client: TestClient) -> None:
    files = [("audio", (f"a{i}.wav", b"x")) for i in range(3)]
    r = client.post("/v1/animate", files=files)
    assert r.status_code == 400 and r.json()["error"] == "bad_multipart" and "files" in r.json()["message"]
    fields = {f"f{i}": "1" for i in range(13)}
    r = client.post("/v1/animate", files={"audio": ("a.wav", b"x")}, data=fields)
    assert r.status_code == 400 and "fields" in r.json()["message"]
    r = client.post("/v1/animate", content=b"{}", headers={"content-type": "application/json"})
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"


def test_reconstruct_photo_and_errors(client: TestClient) -> None:
    r = client.post("/v1/reconstruct", files={"face": ("me.jpg", demo_face())})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "photo" and body["vertices"] > 25959 and np.asarray(body["identity"]).shape == (468, 3)
    assert body["rig"]["kind"] == "arkit" and len(body["rig"]["names"]) == 52 and body["texture_size"] == [2048, 1024]
    import base64
    import json
    import struct

    glb = base64.b64decode(body["mesh_glb"])
    doc = json.loads(glb[20 : 20 + struct.unpack_from("<I", glb, 12)[0]])
    assert glb[:4] == b"glTF" and doc["meshes"][0]["extras"]["targetNames"] == body["rig"]["names"]
    r = client.post("/v1/reconstruct", files={"face": ("wall.png", blank_png())})
    assert r.status_code == 422 and r.json()["error"] == "face_not_found" and r.json()["message"].startswith("wall.png")
    r = client.post("/v1/reconstruct", params={"format": "glb"}, files={"face": ("me.jpg", demo_face())})
    assert r.status_code == 200 and r.content[:4] == b"glTF" and r.headers["content-type"] == "model/gltf-binary"


def test_job_routes_states(client: TestClient, long_video: bytes) -> None:
    assert client.get("/v1/jobs/" + "0" * 32).json()["error"] == "job_not_found"
    assert client.get("/v1/jobs/../../etc/passwd").status_code == 404
    assert client.get("/v1/jobs/not-an-id/result").status_code == 404
    r = client.post("/v1/animate", files={"audio": ("a.wav", wav_bytes()), "face": ("long.mp4", long_video)})
    job_id = r.json()["id"]
    while client.get(f"/v1/jobs/{job_id}").json()["state"] == "queued":
        time.sleep(0.05)
    r = client.get(f"/v1/jobs/{job_id}/result")
    assert r.status_code == 409 and r.json()["error"] == "job_not_finished"
    t0 = time.perf_counter()
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 200
    while client.get(f"/v1/jobs/{job_id}").json()["state"] == "running":
        time.sleep(0.02)
    assert time.perf_counter() - t0 < 2.0  # stopped at its next tracked frame
    assert client.get(f"/v1/jobs/{job_id}").json()["state"] == "cancelled"
    assert client.get(f"/v1/jobs/{job_id}/result").json()["error"] == "job_cancelled"
    done = run_job(client, {"audio": ("a.wav", wav_bytes(0.5))})
    assert client.delete(f"/v1/jobs/{done['id']}").json() == {"id": done["id"], "deleted": True}
    assert client.get(f"/v1/jobs/{done['id']}").status_code == 404


def test_not_ready_then_ready(tmp_path: Path) -> None:
    with make_client(tmp_path) as c:
        first = c.get("/v1/ready")
        if first.status_code == 503:  # models still loading: jobs are refused with Retry-After
            assert first.json()["error"] == "not_ready"
            r = c.post("/v1/animate", files={"audio": ("a.wav", wav_bytes())})
            assert r.status_code in (202, 503)
        wait_ready(c.get)
        assert c.get("/v1/health").status_code == 200


def settled_ready(c: TestClient, seconds: float = 20.0) -> Any:
    """/v1/ready once it no longer says the models are still loading."""
    for _ in range(int(seconds / 0.05)):
        r = c.get("/v1/ready")
        if r.json().get("error") != "not_ready":
            return r
        time.sleep(0.05)
    return r


def test_pickle_checkpoint_is_refused_and_never_run(tmp_path: Path) -> None:
    import pickle
    import shutil

    from core.loading import ASSETS

    models = tmp_path / "models"
    shutil.copytree(ASSETS, models)
    sentinel = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (open, (str(sentinel), "w"))

    (models / "expression.safetensors").write_bytes(pickle.dumps(Evil()))
    with make_client(tmp_path / "jobs", models_dir=models) as c:
        r = settled_ready(c)
        assert r.status_code == 503 and r.json()["error"] == "load_failed", r.text
        assert "not a readable safetensors checkpoint" in r.json()["message"]
        assert "expression.safetensors" in r.json()["message"]
        assert c.post("/v1/animate", files={"audio": ("a.wav", wav_bytes())}).status_code == 503
    assert not sentinel.exists()


def test_any_load_failure_is_reported_not_left_loading(tmp_path: Path) -> None:
    """A smoothing.json without "choice" (a KeyError, not a ParleyError) must not leave /v1/ready loading for ever."""
    import shutil

    from core.loading import ASSETS

    models = tmp_path / "models"
    shutil.copytree(ASSETS, models)
    (models / "smoothing.json").write_text('{"chosen": "gaussian:1.0"}')
    with make_client(tmp_path / "jobs", models_dir=models) as c:
        r = settled_ready(c)
        assert r.status_code == 503 and r.json()["error"] == "load_failed", r.text
        assert "KeyError" in r.json()["message"] and "choice" in r.json()["message"]
        r = c.post("/v1/animate", files={"audio": ("a.wav", wav_bytes())})
        assert r.status_code == 503 and r.json()["error"] == "load_failed"


def test_waiting_on_bad_input_answers_4xx(client: TestClient) -> None:
    r = client.post("/v1/animate", params={"wait": "true"}, files={"audio": ("voice.wav", b"RIFF nope" * 20)})
    assert r.status_code == 422 and r.json()["state"] == "failed", r.text
    assert r.json()["error"]["error"] == "audio_decode_error"
    ok = client.post("/v1/animate", params={"wait": "true"}, files={"audio": ("a.wav", wav_bytes(0.5))})
    assert ok.status_code == 200 and ok.json()["state"] == "done"


def test_server_faults_are_5xx() -> None:
    from server.errors import error_status

    assert error_status("checkpoint_error") == 500 and error_status("audio_decode_error") == 422
    assert error_status("internal_error") == 500


def test_a_reconstructed_face_is_animated_by_its_id(client: TestClient) -> None:
    rec = client.post("/v1/reconstruct", files={"face": ("me.jpg", demo_face())})
    assert rec.status_code == 200, rec.text
    face_id = rec.json()["face_id"]
    s = run_job(client, {"audio": ("a.wav", wav_bytes(1.0))}, {"face_id": face_id})
    res = result_of(client, s["id"])
    assert s["state"] == "done" and res.meta["face"] == f"face {face_id}"
    upload = {"audio": ("a.wav", wav_bytes(1.0)), "face": ("me.jpg", demo_face())}
    photo = result_of(client, run_job(client, upload)["id"])
    np.testing.assert_allclose(res.landmarks, photo.landmarks, atol=1e-5)  # the same face as uploading the photo
    r = client.post("/v1/animate", files={"audio": ("a.wav", wav_bytes(1.0))}, data={"face_id": "f" * 32})
    assert r.status_code == 404 and r.json()["error"] == "face_not_known" and "upload" in r.json()["message"]
    both = client.post("/v1/animate", files={"audio": ("a.wav", wav_bytes()), "face": ("me.jpg", demo_face())},
                       data={"face_id": face_id})
    assert both.status_code == 422


def test_animate_motion_fields_are_checked_and_used(client: TestClient) -> None:
    audio = {"audio": ("line.wav", wav_bytes(1.5))}
    for field, value, words in (("gaze", "sideways", "gaze"), ("blink_rate", "often", "blink_rate"),
                                ("head_motion", "4", "head_motion"), ("brows", "maybe", "brows")):
        r = client.post("/v1/animate", files=audio, data={field: value})
        assert r.status_code == 422 and words in r.json()["message"], r.text
    r = client.post("/v1/animate", params={"wait": "true"}, files=audio,
                    data={"head_motion": "0", "blink_rate": "12", "gaze": "off", "brows": "false", "seed": "9"})
    assert r.status_code == 200, r.text
    res = result_of(client, r.json()["id"])
    sp = res.meta["spontaneous"]
    assert (sp["head_motion"], sp["blink_rate"], sp["gaze"], sp["brows"]) == (0.0, 12.0, "off", False)
    assert np.abs(res.pose).max() == 0 and res.meta["seed"] == 9


def test_render_a_finished_animation_to_mp4(client: TestClient) -> None:
    s = run_job(client, {"audio": ("line.wav", wav_bytes(1.0)), "face": ("me.jpg", demo_face())}, {"fps": "25"})
    assert s["state"] == "done"
    face = {"face": ("me.jpg", demo_face())}
    r = client.post("/v1/render", files=face, data={"job_id": s["id"], "size": "96"})
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    for _ in range(600):
        st = client.get(f"/v1/jobs/{job}").json()
        if st["state"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert st["state"] == "done", st
    video = client.get(f"/v1/jobs/{job}/result")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4" and video.content[4:8] == b"ftyp"
    assert client.get(f"/v1/jobs/{job}/result", params={"format": "npz"}).status_code == 422
    r = client.post("/v1/render", files=face, data={"job_id": "0" * 32})
    assert r.status_code == 404 and "animate first" in r.json()["message"]
    r = client.post("/v1/render", files=face, data={"job_id": s["id"], "size": "9000"})
    assert r.status_code == 422 and "size" in r.json()["message"]


def test_the_server_and_the_cli_give_the_same_result(client: TestClient, tmp_path: Path) -> None:
    from core.cli import main

    wav = tmp_path / "line.wav"
    wav.write_bytes(wav_bytes(1.4, seed=8))
    s = run_job(client, {"audio": ("line.wav", wav.read_bytes())}, {"fps": "25", "seed": "4", "gaze": "camera"})
    served = client.get(f"/v1/jobs/{s['id']}/result?format=npz").content
    assert main(["animate", str(wav), "--out", str(tmp_path / "cli.npz"), "--fps", "25", "--seed", "4",
                 "--gaze", "camera"]) == 0
    with np.load(io.BytesIO(served)) as a, np.load(tmp_path / "cli.npz") as b:
        for k in ("expression", "pose", "blink", "landmarks", "arkit"):
            assert np.array_equal(a[k], b[k]), k  # bit for bit: one thread for torch and BLAS on both sides


def test_the_routes_do_not_import_the_app_that_includes_them() -> None:
    """No app ↔ routes circle: the routes reach the shared state through ``server.state``."""
    import subprocess
    import sys

    from tests.conftest import REPO

    code = "import sys, server.routes; print('server.app' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr
