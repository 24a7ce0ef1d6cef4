from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.errors import FaceNotFound, FaceTooSmall, ImageDecodeError
from core.face.media import load_image
from core.face.tracker import N_LANDMARKS, track_image, track_video
from tests.conftest import DEMO_FACE, FIXTURE_VIDEO


def test_photo_gives_468_landmarks() -> None:
    rgb = load_image(DEMO_FACE)
    obs = track_image(rgb, source=str(DEMO_FACE))
    assert obs.landmarks.shape == (N_LANDMARKS, 3)
    assert np.isfinite(obs.landmarks).all()
    assert obs.n_faces == 1 and obs.size_px > 80
    # landmarks lie inside the image
    assert (obs.landmarks[:, 0] >= 0).all() and (obs.landmarks[:, 0] <= rgb.shape[1]).all()


def test_no_face_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "wall.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((256, 256, 3)) * 40 + 100).astype(np.uint8)).save(p)
    with pytest.raises(FaceNotFound, match="wall.png: no face found"):
        track_image(load_image(p), source=str(p))


def close_up() -> Image.Image:
    """The demo portrait cropped to the face (the face fills about half of it)."""
    rgb = load_image(DEMO_FACE)
    lm = track_image(rgb).landmarks
    cx, cy = lm[:, :2].mean(axis=0)
    return Image.fromarray(rgb).crop((int(cx) - 110, int(cy) - 110, int(cx) + 110, int(cy) + 110))


def test_small_face_is_refused() -> None:
    small = np.asarray(close_up().resize((100, 100)))  # the face is about 45 px across
    with pytest.raises(FaceTooSmall, match="px across"):
        track_image(small, source="small.png")


def test_several_faces_keep_the_largest(caplog: pytest.LogCaptureFixture) -> None:
    face = close_up()
    canvas = Image.new("RGB", (620, 320), (90, 90, 90))
    canvas.paste(face.resize((300, 300)), (0, 10))
    canvas.paste(face.resize((200, 200)), (400, 60))
    with caplog.at_level(logging.WARNING):
        obs = track_image(np.asarray(canvas), source="two.png")
    assert obs.n_faces == 2
    assert obs.landmarks[:, 0].mean() < 300  # the big face is on the left
    assert "using the largest" in caplog.text


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "huge.png"
    Image.new("L", (9000, 9000)).save(p)  # 81 MP, a few hundred kB on disk
    with pytest.raises(ImageDecodeError, match="MP limit"):
        load_image(p)


@pytest.mark.parametrize("content", [b"", b"not an image at all" * 10])
def test_bad_image_files(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "bad.jpg"
    p.write_bytes(content)
    with pytest.raises(ImageDecodeError, match="bad.jpg"):
        load_image(p)


def test_video_tracks_every_frame() -> None:
    track = track_video(FIXTURE_VIDEO)
    assert track.landmarks.shape == (75, N_LANDMARKS, 3)
    assert track.found.all() and track.fps == pytest.approx(25.0)


def test_matplotlib_waits_until_someone_uses_it() -> None:
    """MediaPipe's import of matplotlib.pyplot is deferred (a third of a second of every start with a face), and
    matplotlib still works, whole, for whoever uses it afterwards."""
    import subprocess
    import sys

    from tests.conftest import REPO

    code = """
import sys
from core.face.tracker import MediaPipeTracker
MediaPipeTracker().close()
print(type(sys.modules["matplotlib.pyplot"]).__name__)
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from mediapipe.python.solutions import drawing_utils
fig = plt.figure()
print(type(fig).__name__, type(sys.modules["matplotlib.pyplot"]).__name__, drawing_utils.plt.figure is plt.figure)
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["_Deferred", "Figure", "module", "True"]
