"""``parley preview``: the take it reads, the commands its buttons run, and the window rendered off-screen."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.errors import ParleyError
from review.model import CURVES, check_exportable, export_take, load_take
from tests.conftest import DEMO_FACE, speechlike

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="module")
def take_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from core.animate import animate

    d = tmp_path_factory.mktemp("take")
    wav = d / "line.wav"
    sf.write(wav, speechlike(1.0, seed=4), 16000)
    res = animate(wav, None, fps=12.0, seed=5, articulation=1.3)
    return res.save(d / "line.npz"), wav


def test_the_take_has_its_curves_audio_and_settings(take_files: tuple[Path, Path], tmp_path: Path) -> None:
    result, wav = take_files
    take = load_take(result)
    assert take.audio == wav and take.frames == 12 and take.fps == 12.0
    curves = take.curves()
    assert curves.shape == (len(CURVES), 12) and np.isfinite(curves).all()
    assert take.frame_at(0.0) == 0 and take.frame_at(99.0) == 11
    assert take.missing_face == ""  # made with the built-in portrait, found in this copy of Parley
    long = tmp_path / "long.wav"
    sf.write(long, speechlike(3.0), 16000)
    with pytest.raises(ParleyError, match="other audio"):
        load_take(result, audio=long)
    with pytest.raises(ParleyError, match="no such file"):
        load_take(result, face=tmp_path / "nobody.jpg")


def test_the_window_renders_off_screen_and_exports_a_preview(take_files: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("PyQt6.QtWidgets")
    from PIL import Image

    from server.cli import main

    shot = tmp_path / "window.png"
    args = ["preview", str(take_files[0]), "--face", str(DEMO_FACE), "--screenshot", str(shot), "--at", "0.5"]
    assert main(args) == 0
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[0] > 400 and img.shape[1] > 900
    head = img[20:380, 20:380].astype(int)
    assert head.std() > 20  # a head is drawn, not an empty frame

    from PyQt6.QtWidgets import QApplication

    from core.face.reconstruct import reconstruct
    from review.window import PreviewWindow

    app = QApplication.instance() or QApplication([])
    win = PreviewWindow(load_take(take_files[0]), reconstruct(DEMO_FACE).full_head(), background=False)
    win.seek(0.5)
    assert win.slider.value() == 6 and "frame 7/12" in win.time_label.text()
    import threading

    import review.window as window

    seen: list[str] = []
    real = window.export_take

    def spy(*a: object, **kw: object) -> Path:
        seen.append(threading.current_thread().name)
        return real(*a, **kw)  # type: ignore[arg-type]

    window.export_take = spy  # type: ignore[assignment]
    try:
        win.export("mp4", str(tmp_path / "take.mp4"))
        assert not win.exports["mp4"].isEnabled()  # the window stays live; a second export waits its turn
        assert win.wait_export()
    finally:
        window.export_take = real
    assert seen == ["parley-export"]  # never the GUI thread
    assert (tmp_path / "take.mp4").stat().st_size > 1000 and "wrote" in win.status.text()
    assert win.exports["mp4"].isEnabled()
    win.close()
    app.processEvents()


def _glb_json(path: Path) -> dict:  # type: ignore[type-arg]
    import json
    import struct

    raw = path.read_bytes()
    n = struct.unpack("<I", raw[12:16])[0]
    return json.loads(raw[20 : 20 + n])  # type: ignore[no-any-return]


def test_glb_export_writes_the_reviewed_curves_through_cores_writer(take_files: tuple[Path, Path],
                                                                    tmp_path: Path) -> None:
    """The GLB holds the take's own arrays as a glTF animation: nothing re-animated, no server, no Blender."""
    from scipy.spatial.transform import Rotation

    from core.face.reconstruct import reconstruct

    take = load_take(take_files[0])
    out = export_take(take, reconstruct(DEMO_FACE).full_head(), tmp_path / "take.glb")
    doc, raw = _glb_json(out), out.read_bytes()
    (anim,) = doc["animations"]
    assert [c["target"]["path"] for c in anim["channels"]] == ["weights", "rotation", "translation"]
    assert doc["accessors"][anim["samplers"][0]["input"]]["max"] == pytest.approx([11 / 12])
    bin_start = 20 + len(_json_bytes(raw)) + 8

    def array(i: int, width: int) -> np.ndarray:
        acc = doc["accessors"][anim["samplers"][i]["output"]]
        view = doc["bufferViews"][acc["bufferView"]]
        a = np.frombuffer(raw, np.float32, acc["count"] * width, bin_start + view["byteOffset"])
        return a.reshape(acc["count"], width) if width > 1 else a

    assert np.allclose(array(0, 1).reshape(12, 52), take.arkit, atol=1e-6)
    q = array(1, 4)
    assert np.allclose(np.abs(np.sum(q * Rotation.from_euler("xyz", take.pose[:, :3]).as_quat(), 1)), 1, atol=1e-5)
    assert np.allclose(array(2, 3), take.pose[:, 3:], atol=1e-6)
    assert len(doc["meshes"][0]["extras"]["targetNames"]) == 52


def _json_bytes(raw: bytes) -> bytes:
    import struct

    return raw[20 : 20 + struct.unpack("<I", raw[12:16])[0]]


def test_exports_refuse_a_stranger_s_head(take_files: tuple[Path, Path], tmp_path: Path) -> None:
    """A result whose face is not on this machine: the window may show the portrait, an export never writes it."""
    import json

    z = dict(np.load(take_files[0]))
    meta = json.loads(str(z["meta"]))
    meta["face"] = str(tmp_path / "gone" / "actor.jpg")
    z["meta"] = np.array(json.dumps(meta))
    moved = tmp_path / "moved.npz"
    np.savez(moved, **z)
    take = load_take(moved)
    assert take.face is None and take.missing_face.endswith("actor.jpg")
    for suffix in (".glb", ".fbx", ".mp4"):
        with pytest.raises(ParleyError, match="actor.jpg.*not on this machine.*--face"):
            check_exportable(take, tmp_path / f"x{suffix}")
    with pytest.raises(ParleyError, match="choose"):
        check_exportable(load_take(take_files[0]), tmp_path / "x.abc")
    assert load_take(moved, face=DEMO_FACE).missing_face == ""


def test_fbx_export_goes_through_the_add_ons_exporter_without_a_server(take_files: tuple[Path, Path],
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("bpy", reason="FBX is written by Blender's exporter")
    from core.face.reconstruct import reconstruct

    monkeypatch.setenv("PARLEY_URL", "http://127.0.0.1:9")  # nothing answers: none is needed
    out = export_take(load_take(take_files[0]), reconstruct(DEMO_FACE).full_head(), tmp_path / "take.fbx")
    assert out.stat().st_size > 100_000 and out.read_bytes()[:18] == b"Kaydara FBX Binary"


def test_the_window_keeps_qt_s_chatter_out_of_the_terminal(take_files: tuple[Path, Path], tmp_path: Path) -> None:
    """No PulseAudio, multimedia-plug-in or off-screen-platform lines: only Parley's own line."""
    pytest.importorskip("PyQt6.QtWidgets")
    import subprocess
    import sys

    from tests.conftest import REPO

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("QT_LOGGING_RULES", None)
    r = subprocess.run([sys.executable, "-m", "server.cli", "preview", str(take_files[0]), "--screenshot",
                        str(tmp_path / "w.png")], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr
    assert r.stdout.strip().endswith("w.png")
