"""``parley preview``: the take it reads, the commands its buttons run, and the window rendered off-screen."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.errors import ParleyError
from review.model import CURVES, export_command, load_take
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
    cmd = export_command(take, tmp_path / "x.fbx")
    assert cmd[1].endswith("addon/cli.py") and cmd[cmd.index("--seed") + 1] == "5"
    assert cmd[cmd.index("--articulation") + 1] == "1.3" and cmd[cmd.index("--fps") + 1] == "12.0"
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
    win.export("mp4", str(tmp_path / "take.mp4"))
    assert (tmp_path / "take.mp4").stat().st_size > 1000 and "wrote" in win.status.text()
    win.close()
    app.processEvents()
