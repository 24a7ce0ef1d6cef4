"""Shapes, save/load and the pieces of Ψ, Φ, the smoother and the blink model, on small random inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import CheckpointError
from core.models.blink import BlinkConfig, BlinkModel, closure, detect_blinks
from core.models.expression import ExpressionConfig, ExpressionNet, predict_expression
from core.models.motion import HeadMotionNet, MeanStdDiscriminator, MotionConfig, predict_motion
from core.models.smoother import AdaptiveSmoother, SmootherConfig, gaussian_smooth, weighted_window


@pytest.mark.parametrize("variant", ["paper", "tcn"])
@pytest.mark.parametrize("fps", [24.0, 30.0, 60.0])
def test_expression_net_gives_one_row_per_frame_at_any_fps(variant: str, fps: float, tmp_path: Path) -> None:
    net = ExpressionNet(ExpressionConfig(variant=variant, hidden=16, id_dim=4)).eval()
    mel = np.random.default_rng(0).normal(size=(300, 80)).astype(np.float32)  # 3 s
    q = predict_expression(net, mel, int(3 * fps), fps, np.zeros(20, np.float32))
    assert q.shape == (int(3 * fps), 20) and q.dtype == np.float32 and np.isfinite(q).all()
    p = net.save(tmp_path / "psi.safetensors")
    again = ExpressionNet.load(p)
    np.testing.assert_allclose(predict_expression(again, mel, 10, fps, np.zeros(20, np.float32)), q[:10], atol=1e-5)


def test_expression_output_follows_the_audio_in_time() -> None:
    """The tcn encoder samples at frame times: a change in the audio moves the frames at that time most.

    (Its GroupNorm uses whole-clip statistics, so far frames may move a little too.)"""
    torch.manual_seed(0)
    net = ExpressionNet(ExpressionConfig(variant="tcn", hidden=16, id_dim=4, dropout=0.0)).eval()
    a = np.zeros((400, 80), np.float32)
    b = a.copy()
    b[300:] = 5.0  # differs only after 3.0 s
    qa = predict_expression(net, a, 100, 25.0, np.zeros(20, np.float32))
    qb = predict_expression(net, b, 100, 25.0, np.zeros(20, np.float32))
    far, near = np.abs(qa[:40] - qb[:40]).mean(), np.abs(qa[-20:] - qb[-20:]).mean()
    assert near > 3 * far


def test_expression_load_refuses_mismatched_weights(tmp_path: Path) -> None:
    p = ExpressionNet(ExpressionConfig(hidden=16)).save(tmp_path / "a.safetensors")
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(p), framework="pt") as f:
        meta = f.metadata()
    t = load_file(str(p))
    t.pop(next(iter(t)))
    save_file(t, str(p), metadata=meta)
    with pytest.raises(CheckpointError, match="do not match"):
        ExpressionNet.load(p)


def test_motion_net_default_and_reference_styles(tmp_path: Path) -> None:
    net = HeadMotionNet(MotionConfig(hidden=16, audio_dim=8)).eval()
    mel = np.random.default_rng(1).normal(size=(200, 80)).astype(np.float32)
    ref_pose = np.random.default_rng(2).normal(size=(50, 6)).astype(np.float32) * 0.02
    default = predict_motion(net, mel, 60, 30.0)
    styled = predict_motion(net, mel, 60, 30.0, (mel[:200], ref_pose, 25.0))
    for out in (default, styled):
        assert out.shape == (60, 6) and np.isfinite(out).all()
        assert np.allclose(out.mean(0), 0, atol=1e-6)  # motion around the rest pose
    again = HeadMotionNet.load(net.save(tmp_path / "phi.safetensors"))
    np.testing.assert_allclose(predict_motion(again, mel, 60, 30.0), default, atol=1e-6)


def test_motion_scales_with_the_reference_std() -> None:
    net = HeadMotionNet(MotionConfig(hidden=16, audio_dim=8)).eval()
    mel = np.random.default_rng(1).normal(size=(200, 80)).astype(np.float32)
    calm = np.random.default_rng(3).normal(size=(50, 6)).astype(np.float32) * 0.01
    wb = net.encode_reference(torch.from_numpy(mel)[None], torch.arange(50)[None] / 25.0, torch.from_numpy(calm)[None])
    t = torch.arange(60)[None] / 30.0
    small = net.extrapolate(torch.from_numpy(mel)[None], t, wb, torch.full((1, 6), 0.01))
    big = net.extrapolate(torch.from_numpy(mel)[None], t, wb, torch.full((1, 6), 0.03))
    assert torch.allclose(big, 3 * small, atol=1e-6)


def test_discriminator_reads_only_sequence_statistics() -> None:
    d = MeanStdDiscriminator(velocity_stats=False)
    x = torch.randn(2, 40, 6)
    shuffled = x[:, torch.randperm(40)]
    assert torch.allclose(d(x, torch.ones(6)), d(shuffled, torch.ones(6)), atol=1e-5)


def test_weighted_window_is_a_normalised_average() -> None:
    x = torch.arange(10, dtype=torch.float32)[None, :, None]
    w = torch.full((1, 10, 3), 1 / 3)
    y = weighted_window(x, w)
    assert torch.allclose(y[0, 1:-1, 0], x[0, 1:-1, 0])  # a linear ramp is kept by a symmetric average
    assert y[0, 0, 0] == pytest.approx(1 / 3)  # the edge frame is repeated


def test_adaptive_smoother_keeps_shape_and_reduces_jitter(tmp_path: Path) -> None:
    net = AdaptiveSmoother(SmootherConfig()).eval()
    comps = np.linalg.qr(np.random.default_rng(0).normal(size=(1404, 20)))[0].T.astype(np.float32)
    rng = np.random.default_rng(4)
    q = (np.sin(np.linspace(0, 6, 75))[:, None] * 0.01 + rng.normal(size=(75, 20)) * 0.002).astype(np.float32)
    from core.models.smoother import smooth_adaptive

    s = smooth_adaptive(net, q, comps)
    assert s.shape == q.shape
    assert np.abs(np.diff(s, 2, axis=0)).mean() < np.abs(np.diff(q, 2, axis=0)).mean()
    again = AdaptiveSmoother.load(net.save(tmp_path / "s.safetensors"))
    np.testing.assert_allclose(smooth_adaptive(again, q, comps), s, atol=1e-6)
    assert np.allclose(gaussian_smooth(q, 0), q)


def test_blink_sampling_rate_range_and_determinism() -> None:
    m = BlinkModel(BlinkConfig(rate_per_min=20.0, durations_s=[0.2]), np.sin(np.linspace(0, np.pi, 16)),
                   np.zeros((2, 468, 3), np.float32))
    b = m.sample(30 * 60, 30.0, seed=1)
    assert b.shape == (1800, 2) and b.min() >= 0 and b.max() <= 1
    assert np.array_equal(b, m.sample(30 * 60, 30.0, seed=1))
    onsets = np.flatnonzero((b[1:, 0] > 0.5) & (b[:-1, 0] <= 0.5))
    assert 10 <= len(onsets) <= 30  # about 20 per minute


def test_detect_blinks_finds_relative_dips_and_skips_cut_ones() -> None:
    o = np.full((100, 2), 0.36)
    o[40:46] = 0.26  # a 28 % dip for 0.24 s: a blink as MediaPipe sees it
    o[:3] = 0.2  # cut by the clip's start: unknown shape, skipped
    assert detect_blinks(o, 25.0) == [(40, 46)]
    assert closure(o)[42, 0] == pytest.approx(0.1 / 0.36, rel=1e-3)
