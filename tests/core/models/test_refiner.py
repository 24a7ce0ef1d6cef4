"""The renderer's refiner network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import CheckpointError
from core.models.refiner import RefinerConfig, RefinerNet, refine


def test_an_untrained_refiner_is_the_identity_and_round_trips(tmp_path: Path) -> None:
    net = RefinerNet(RefinerConfig(channels=8, crop=32)).eval()
    rng = np.random.default_rng(0)
    warped = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    out = refine(net, warped, np.zeros((32, 32), np.float32), warped)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8 and np.abs(out.astype(int) - warped).max() <= 1
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.01)
    again = RefinerNet.load(net.save(tmp_path / "r.safetensors", {"val_psnr_refined": 30.0}))
    x = torch.rand(1, 3, 32, 32)
    m = torch.zeros(1, 1, 32, 32)
    assert torch.allclose(again(x, m, x), net(x, m, x), atol=1e-6)
    (tmp_path / "bad.safetensors").write_bytes(b"nope")
    with pytest.raises(CheckpointError):
        RefinerNet.load(tmp_path / "bad.safetensors")


def test_the_warp_with_a_refiner_keeps_the_frame() -> None:
    from core.face.head import textured_head
    from core.render.warp import WarpRenderer, make_stage
    from tests.core.face.test_head import photo_and_landmarks

    rgb, lm, frame, rest = photo_and_landmarks()
    stage = make_stage(rgb, lm, textured_head(rgb, lm, frame, rest))
    plain = WarpRenderer(stage, 128)
    refined = WarpRenderer(stage, 128, RefinerNet(RefinerConfig(channels=8, crop=64)).eval())
    w = stage.head.photo_arkit
    a, b = plain.frame(w, np.zeros(6, np.float32)), refined.frame(w, np.zeros(6, np.float32))
    assert a.shape == b.shape and np.abs(a.astype(int) - b.astype(int)).mean() < 2.0  # identity net, resampled crop
    # the refiner's window sits on the mouth: the lips' middle, as wide as most of the face
    mouth = lm[[13, 14], :2].mean(0) * 128 / max(rgb.shape[:2])
    assert np.abs(np.asarray(refined.window) - mouth).max() < 0.1 * refined.window_side
    cheeks = float(np.linalg.norm(lm[234, :2] - lm[454, :2])) * 128 / max(rgb.shape[:2])
    assert 0.6 * cheeks < refined.window_side < cheeks
