from __future__ import annotations

from pathlib import Path

import numpy as np

from core.cli import DEMO_FACE, main
from tests.core.metrics.test_metrics import talking


def _write(path: Path, lm: np.ndarray) -> Path:
    np.savez(path, landmarks=lm.astype(np.float32), pose=np.zeros((len(lm), 6), np.float32), fps=np.float32(25))
    return path


def test_eval_prints_table_and_writes_plots(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    lm = talking()
    pred = _write(tmp_path / "pred.npz", np.roll(lm, 2, axis=0))
    truth = _write(tmp_path / "truth.npz", lm)
    assert main(["eval", str(pred), "--truth", str(truth), "--plots", str(tmp_path / "plots")]) == 0
    out = capsys.readouterr().out
    assert "aperture_best_lag" in out and "msi_lips_pred" in out
    for name in ("aperture.png", "msi.png", "scores.json"):
        assert (tmp_path / "plots" / name).stat().st_size > 100
    import json

    scores = json.loads((tmp_path / "plots" / "scores.json").read_text())
    assert scores["aperture_best_lag"] == 2


def test_eval_refuses_non_result(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.npz"
    np.savez(bad, something=np.zeros(3))
    assert main(["eval", str(bad), "--truth", str(bad)]) == 2
    assert "not a Parley result" in capsys.readouterr().err


def test_demo_runs(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "demo_head.glb").is_file() and (tmp_path / "demo_head.obj").is_file()
    assert (tmp_path / "demo_head_views.png").stat().st_size > 10_000
    assert "307 frames at 30 fps" in capsys.readouterr().out  # 10.21 s of demo voice
    assert (tmp_path / "demo_preview.mp4").stat().st_size > 10_000
    with np.load(tmp_path / "demo.npz") as z:
        assert z["landmarks"].shape == (307, 468, 3) and z["arkit"].shape == (307, 52)


def test_reconstruct_head_views_and_mask(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json
    import struct

    from PIL import Image

    assert main(["reconstruct", str(DEMO_FACE), "--out", str(tmp_path / "head.glb"), "--obj",
                 "--views", str(tmp_path / "views.png")]) == 0
    raw = (tmp_path / "head.glb").read_bytes()
    doc = json.loads(raw[20 : 20 + struct.unpack_from("<I", raw, 12)[0]])
    assert doc["meshes"][0]["extras"]["targetNames"][:2] == ["eyeBlinkLeft", "eyeLookDownLeft"]
    assert len(doc["meshes"][0]["extras"]["targetNames"]) == 52 and len(doc["materials"]) == 9  # with the hair
    assert (tmp_path / "head.obj").is_file() and (tmp_path / "head_skin.jpg").is_file()
    views = np.asarray(Image.open(tmp_path / "views.png"))
    assert views.shape == (512, 1536, 3) and views.std() > 20  # three views, not a blank image
    assert "52 ARKit shape keys" in capsys.readouterr().out
    assert main(["reconstruct", str(DEMO_FACE), "--out", str(tmp_path / "mask.gltf"), "--mesh", "mask"]) == 0
    assert main(["reconstruct", str(DEMO_FACE), "--out", str(tmp_path / "head.gltf")]) == 2  # a head needs .glb


def test_animate_articulation_option(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from core.cli import DEMO_AUDIO

    assert main(["animate", str(DEMO_AUDIO), "--out", str(tmp_path / "r.npz"), "--articulation", "2.5"]) == 2
    assert "--articulation 2.5: must be between 0 and 2" in capsys.readouterr().err
    assert not (tmp_path / "r.npz").exists()
    assert main(["animate", str(DEMO_AUDIO), "--out", str(tmp_path / "r.npz"), "--articulation", "0.5"]) == 0
    import json

    with np.load(tmp_path / "r.npz") as z:
        assert json.loads(str(z["meta"]))["articulation"] == 0.5


def test_train_writes_runs_and_promotes_only_when_told(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from core.train import run

    made = tmp_path / "runs" / "neutral.safetensors"
    made.parent.mkdir()
    made.write_bytes(b"weights")
    (tmp_path / "runs" / "neutral.state.pt").write_bytes(b"state")
    assets = tmp_path / "assets"
    assets.mkdir()
    assert run.promote([made, made.with_name("neutral.state.pt")], assets) == [assets / "neutral.safetensors"]
    assert sorted(p.name for p in assets.iterdir()) == ["neutral.safetensors"]  # never a .state.pt in the package
    assert run.RUNS == Path("runs") and run.FILE["expression"] == "expression.safetensors"


def test_outputs_and_options_are_refused_before_any_work(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import time

    from core.cli import DEMO_AUDIO, DEMO_FACE

    cases = [
        (["reconstruct", str(DEMO_FACE), "--out", str(tmp_path / "face.fbx")], "--out",
         "must end in .glb or .obj"),
        (["animate", str(DEMO_AUDIO), "--out", str(tmp_path / "r.txt")], "--out", "must end in .npz or .json"),
        (["animate", str(DEMO_AUDIO), "--out", str(tmp_path / "r.npz"), "--preview", str(tmp_path / "p.gif")],
         "--preview", "must end in .mp4"),
        (["animate", str(DEMO_AUDIO), "--out", str(tmp_path / "r.npz"), "--fps", "500"], "--fps 500", "between 1"),
        (["animate", str(DEMO_AUDIO), "--out", str(tmp_path / "r.npz"), "--head-motion", "3"], "--head-motion 3",
         "between 0 and 2"),
        (["animate", str(DEMO_AUDIO), "--out", str(tmp_path / "r.npz"), "--blink-rate", "often"], "--blink-rate",
         "'natural' or a number"),
    ]
    for argv, flag, words in cases:
        t0 = time.perf_counter()
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert flag in err and words in err and time.perf_counter() - t0 < 1.0  # no face tracked, no model loaded
    import pytest

    with pytest.raises(SystemExit):  # argparse's own refusal of a choice
        main(["animate", str(DEMO_AUDIO), "--out", str(tmp_path / "r.npz"), "--gaze", "sideways"])
    assert "invalid choice: 'sideways'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_an_image_given_as_audio_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from core.cli import DEMO_FACE

    assert main(["animate", str(DEMO_FACE), "--out", str(tmp_path / "r.npz")]) == 2
    err = capsys.readouterr().err
    assert "this is an image, not audio" in err and "video has no audio" not in err


def test_animate_motion_options_reach_the_result(tmp_path: Path) -> None:
    import json

    from core.cli import DEMO_AUDIO

    out = tmp_path / "r.npz"
    assert main(["animate", str(DEMO_AUDIO), "--out", str(out), "--head-motion", "0", "--blink-rate", "0",
                 "--gaze", "camera", "--brows", "off", "--seed", "3"]) == 0
    with np.load(out) as z:
        meta = json.loads(str(z["meta"]))
        assert np.abs(z["pose"]).max() == 0 and z["blink"].max() == 0
    assert meta["spontaneous"]["gaze"] == "camera" and meta["spontaneous"]["brows"] is False and meta["seed"] == 3


def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import os
    import time

    from core.cli import DEMO_AUDIO, DEMO_FACE

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        cases = [["animate", str(DEMO_AUDIO), "--out", "/proc/parley/r.npz"],
                 ["reconstruct", str(DEMO_FACE), "--out", "/proc/parley/head.glb"],
                 ["render", str(tmp_path / "r.npz"), "--face", str(DEMO_FACE), "--out", "/proc/v.mp4"],
                 ["batch", str(DEMO_AUDIO), "--out", "/proc/parley-out"]]
        if os.geteuid() != 0:  # root writes into a read-only folder anyway
            cases.append(["animate", str(DEMO_AUDIO), "--out", str(locked / "r.npz")])
        for argv in cases:
            t0 = time.perf_counter()
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert "cannot write there" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
            assert time.perf_counter() - t0 < 2.0  # before any model loads
        assert main(["render", str(tmp_path / "r.npz"), "--face", str(DEMO_FACE), "--out", str(tmp_path / "v.mp4"),
                     "--size", "10"]) == 2
        assert "--size 10: must be between 64" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_a_video_face_leaves_no_native_chatter_on_stderr(tmp_path: Path) -> None:
    """MediaPipe's start-up lines (TFLite's INFO, absl's W0000) come from its own threads just after the graph is
    built; the command line mutes them through a tracker's first frames, so a person sees only Parley's lines."""
    import subprocess
    import sys

    from tests.conftest import FIXTURE_VIDEO, REPO

    r = subprocess.run([sys.executable, "-m", "core.cli", "reconstruct", str(FIXTURE_VIDEO), "--out",
                        str(tmp_path / "head.glb")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for noise in ("W0000", "absl", "XNNPACK", "INFO:"):
        assert noise not in r.stderr, r.stderr
    assert (tmp_path / "head.glb").stat().st_size > 1_000_000


def test_leave_exits_with_the_code_past_the_last_collection() -> None:
    import gc

    import pytest

    from core.cli import leave

    try:
        with pytest.raises(SystemExit) as exc:
            leave(3)
        assert exc.value.code == 3 and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
