"""The 3D-aware warp: a photo re-posed and re-expressed through its fitted head."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ParleyError
from core.face.arkit import INDEX
from core.metrics.image import psnr
from tests.core.face.test_head import photo_and_landmarks


@pytest.fixture(scope="module")
def renderer():  # type: ignore[no-untyped-def]
    from core.face.head import textured_head
    from core.render.warp import WarpRenderer, make_stage

    rgb, lm, frame, rest = photo_and_landmarks()
    return WarpRenderer(make_stage(rgb, lm, textured_head(rgb, lm, frame, rest)), 256)


def test_the_photos_own_pose_and_expression_give_the_photo_back(renderer) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    head = renderer.stage.head
    same = renderer.frame(head.photo_arkit, np.zeros(6, np.float32))
    photo = np.asarray(Image.fromarray(renderer.stage.rgb).resize((renderer.width, renderer.height)))
    assert same.shape == (renderer.height, renderer.width, 3) and max(same.shape[:2]) == 256
    assert psnr(same, photo) > 32


def test_a_frame_moves_the_face_and_only_around_it(renderer) -> None:  # type: ignore[no-untyped-def]
    head = renderer.stage.head
    base = renderer.frame(head.photo_arkit, np.zeros(6, np.float32))
    w = head.photo_arkit.copy()
    w[INDEX["jawOpen"]] = 0.6
    w[INDEX["eyeBlinkLeft"]] = w[INDEX["eyeBlinkRight"]] = 1.0
    moved = renderer.frame(w, np.array([0.08, 0.15, 0.0, 0.0, 0.0, 0.0], np.float32))
    diff = np.abs(moved.astype(int) - base.astype(int)).sum(-1) > 30
    ys, xs = np.nonzero(diff)
    assert diff.mean() > 0.01  # the face changed …
    corners = [diff[:20, :20], diff[:20, -20:], diff[-20:, :20], diff[-20:, -20:]]
    assert not any(c.any() for c in corners)  # … and the background did not
    assert np.ptp(xs) < 0.7 * renderer.width


def test_sizes_are_checked() -> None:
    from core.render.warp import WarpRenderer

    with pytest.raises(ParleyError, match="--size 4096"):
        WarpRenderer(None, 4096)  # type: ignore[arg-type]
