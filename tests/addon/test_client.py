"""The add-on's standard-library HTTP client against a real ``parley serve``."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from addon.client import Cancelled, ParleyClient, ServerError, ServerUnavailable, Upload
from tests.server.conftest import TOKEN, Live, blank_png, demo_face, free_port, start_live, wav_bytes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    srv = start_live(tmp_path_factory.mktemp("addon"), "--drain-grace", "0.5")
    yield srv
    srv.stop()


def test_status_lines(server: Live) -> None:
    assert ParleyClient(f"http://127.0.0.1:{free_port()}").status() == "not running"
    assert ParleyClient(server.url, TOKEN).status() == "ready"
    with pytest.raises(ServerError) as e:
        ParleyClient(server.url).reconstruct(Upload("me.jpg", demo_face()))
    assert e.value.code == "unauthorized" and e.value.status == 401


def test_reconstruct_animate_and_fetch(server: Live) -> None:
    c = ParleyClient(server.url, TOKEN)
    face = c.reconstruct(Upload("me.jpg", demo_face()))
    assert base64.b64decode(face["mesh_glb"])[:4] == b"glTF" and len(face["rig"]["names"]) == 52
    seen: list[float] = []
    job = c.submit_animation(Upload("line.wav", wav_bytes(1.2)), Upload("me.jpg", demo_face()), fps=24,
                             articulation=0.5)
    status = c.wait(job, on_progress=lambda p, s: seen.append(p), poll=0.05)
    assert status["state"] == "done" and seen and seen[-1] == 1.0
    with np.load(io.BytesIO(c.result_npz(job))) as z:
        assert z["expression"].shape == (29, 20) and z["arkit"].shape == (29, 52) and float(z["fps"]) == 24.0
        assert json.loads(str(z["meta"]))["articulation"] == 0.5


def test_failures_and_cancel(server: Live, long_video: bytes) -> None:
    c = ParleyClient(server.url, TOKEN)
    with pytest.raises(ServerError) as e:
        c.reconstruct(Upload("wall.png", blank_png()))
    assert e.value.code == "face_not_found" and str(e.value).startswith("wall.png: no face")
    job = c.submit_animation(Upload('bad "take"\n2.wav', b"not audio at all" * 10))  # quotes, newline in the name
    with pytest.raises(ServerError) as e:
        c.wait(job, poll=0.05)
    assert e.value.code == "audio_decode_error" and str(e.value).startswith("bad _take__2.wav: ")
    job = c.submit_animation(Upload("a.wav", wav_bytes()), Upload("long.mp4", long_video))
    calls = iter(range(100))
    with pytest.raises(Cancelled):
        c.wait(job, should_stop=lambda: next(calls) >= 3, poll=0.05)
    for _ in range(100):
        if c.job(job)["state"] == "cancelled":
            break
        time.sleep(0.05)
    assert c.job(job)["state"] == "cancelled"


def test_unreachable_server_is_one_clear_error() -> None:
    c = ParleyClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ServerUnavailable, match="no Parley server answers at http://127.0.0.1:"):
        c.submit_animation(Upload("a.wav", b"x"))


def test_animate_reuses_a_reconstructed_face_and_falls_back_to_uploading(server: Live) -> None:
    from addon import workflow

    c = ParleyClient(server.url, TOKEN)
    face_id = c.reconstruct(Upload("me.jpg", demo_face()))["face_id"]
    audio = server.results.parent / "line.wav"
    audio.write_bytes(wav_bytes(1.0))
    m = workflow.animate(c, str(audio), None, 25.0, None, lambda f, s: None, lambda: False, face_id=face_id)
    assert m.frames == 25  # no face uploaded: the server used the one it had tracked
    m = workflow.animate(c, str(audio), Upload("me.jpg", demo_face()), 25.0, None, lambda f, s: None, lambda: False,
                         face_id="0" * 32)  # an id the server does not know (restarted, expired): upload instead
    assert m.frames == 25


def test_models_that_failed_to_load_are_reported_with_the_reason(tmp_path: Path) -> None:
    """Not "loading" for ever: the add-on's status line and its wait both say why the server cannot work."""
    import shutil
    import subprocess
    import sys

    from addon import local_server
    from core.loading import ASSETS
    from tests.server.conftest import REPO

    models = tmp_path / "models"
    shutil.copytree(ASSETS, models)
    (models / "smoothing.json").write_text("{}")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--results-dir",
                             str(tmp_path / "jobs"), "--models", str(models), "--no-warm-up"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c = ParleyClient(f"http://127.0.0.1:{port}")
        status = ""
        for _ in range(300):
            status = c.status()
            if status not in ("not running", "loading"):
                break
            time.sleep(0.1)
        assert "failed to load" in status and "KeyError" in status
        with pytest.raises(ServerUnavailable, match="failed to load"):
            local_server.wait_ready(c, timeout=5)
    finally:
        proc.terminate()
        proc.wait(30)


def test_motion_fields_are_the_servers_form_fields() -> None:
    from addon.workflow import motion_fields

    assert motion_fields() == {"head_motion": "1.0", "blink_rate": "natural", "gaze": "free", "brows": "true",
                               "seed": "0"}
    f = motion_fields(0.5, 12.0, "camera", False, 7)
    assert (f["blink_rate"], f["gaze"], f["brows"], f["seed"]) == ("12.0", "camera", "false", "7")


def test_scripts_go_with_their_lines(tmp_path: Path) -> None:
    """addon/cli.py: --text for one line; in a folder, NAME.txt beside each NAME.wav (UTF-8, a BOM allowed)."""
    from tests.conftest import load_addon_cli

    cli = load_addon_cli()
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    a.write_bytes(b"")
    b.write_bytes(b"")
    (tmp_path / "a.txt").write_bytes("\ufeffHello there.\n".encode())
    assert cli.scripts([a, b], None, None) == ["Hello there.", None]
    assert cli.scripts([a], "Other words", None) == ["Other words"]
    with pytest.raises(SystemExit, match="one audio file"):
        cli.scripts([a, b], "Hi", None)
    args = cli.parse_args(["--audio", str(a), "--face", str(a), "--out", str(tmp_path / "o.glb"), "--text", "x",
                           "--text-file", str(tmp_path / "a.txt")])
    assert cli.check_args(args) == "--text and --text-file: give one of them"
    args = cli.parse_args(["--audio", str(a), "--face", str(a), "--out", "/proc/parley/o.glb"])
    assert cli.check_args(args).startswith("--out /proc/parley/o.glb: cannot write there")  # before any server


def test_cancel_is_heard_during_uploads_downloads_and_reconstruct(server: Live) -> None:
    """Cancel pressed while a request is on the wire stops the work at its end: nothing more is sent, built or
    written, and the job the server took is cancelled there too."""
    from addon import workflow

    c = ParleyClient(server.url, TOKEN)
    f = Path(__file__).resolve().parents[2] / "core" / "assets" / "demo_face.jpg"
    with pytest.raises(Cancelled):
        workflow.reconstruct(c, str(f), lambda p, s: None, lambda: True)
    pressed = iter([False, True])  # not before the upload, but once it is done
    seen: list[str] = []
    real = c.submit_animation

    def submit(*a, **k):  # type: ignore[no-untyped-def]
        job = real(*a, **k)
        seen.append(job)
        return job

    c.submit_animation = submit  # type: ignore[method-assign]
    voice = Path(__file__).resolve().parents[2] / "core" / "assets" / "demo_voice.flac"
    with pytest.raises(Cancelled):
        workflow.animate(c, str(voice), None, 30.0, None, lambda p, s: None, lambda: next(pressed))
    assert len(seen) == 1  # uploaded once, then stopped: no wait, no download
    state = "running"
    for _ in range(100):  # the server stops it at its next progress step
        try:
            state = c.job(seen[0])["state"]
        except ServerError as exc:  # it had already finished: the DELETE removed it
            state = exc.code
        if state not in ("queued", "running"):
            break
        time.sleep(0.1)
    assert state in ("cancelled", "job_not_found")
