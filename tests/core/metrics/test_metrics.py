from __future__ import annotations

import numpy as np
import pytest

from core.face.canonical import canonical_face
from core.metrics.image import psnr, ssim
from core.metrics.landmarks import lmd, msi_jaw, msi_lips, normalised_lmd
from core.metrics.motion import blink_events, eye_openness, head_motion_stats
from core.metrics.regions import JAW, LIPS_INNER, LIPS_OUTER
from core.metrics.sync import best_lag, pearson, sync_scores


def talking(T: int = 200, seed: int = 0) -> np.ndarray:
    """A canonical face whose lower lip and jaw move with a smooth random signal."""
    rng = np.random.default_rng(seed)
    sig = np.convolve(rng.normal(size=T + 20), np.hanning(9), mode="same")[10:-10]
    lm = np.repeat(canonical_face()[None].astype(np.float64), T, axis=0)
    for idx in (14, 17, 84, 314, 152) + JAW:
        lm[:, idx, 1] -= 0.002 * sig
    return lm


def test_shift_by_k_frames_gives_lag_k() -> None:
    rng = np.random.default_rng(3)
    truth = np.convolve(rng.normal(size=300), np.hanning(7), mode="same")
    for k in (-4, -1, 0, 2, 5):
        pred = np.roll(truth, k)
        lag, r = best_lag(pred, truth, max_lag=8)
        assert lag == k and r > 0.99


def test_identical_inputs_r1_lmd0() -> None:
    lm = talking()
    s = sync_scores(lm[:, 13, 1] - lm[:, 14, 1], lm[:, 13, 1] - lm[:, 14, 1])
    assert s.r_lag0 == pytest.approx(1.0) and s.best_lag == 0 and s.amplitude_ratio == pytest.approx(1.0)
    assert lmd(lm, lm) == 0.0 and normalised_lmd(lm, lm) == 0.0
    assert pearson(np.arange(5.0), -np.arange(5.0)) == pytest.approx(-1.0)


def test_lmd_grows_with_error() -> None:
    lm = talking()
    noisy = lm + np.random.default_rng(0).normal(scale=0.001, size=lm.shape)
    worse = lm + np.random.default_rng(0).normal(scale=0.003, size=lm.shape)
    assert 0 < lmd(noisy, lm) < lmd(worse, lm)


def test_smoothed_copy_of_jittered_track_has_higher_msi() -> None:
    from scipy.ndimage import gaussian_filter1d

    lm = talking()
    jittered = lm + np.random.default_rng(1).normal(scale=0.0004, size=lm.shape)
    smoothed = gaussian_filter1d(jittered, 1.5, axis=0)
    assert msi_lips(smoothed) > msi_lips(jittered)
    assert msi_jaw(smoothed) > msi_jaw(jittered)


def test_msi_is_scale_free() -> None:
    lm = talking() + np.random.default_rng(2).normal(scale=0.0003, size=(200, 468, 3))
    assert msi_lips(lm * 1000.0) == pytest.approx(msi_lips(lm), rel=1e-6)


def test_region_sets_match_mediapipe() -> None:
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_FACE_OVAL, FACEMESH_LIPS

    lips = {i for e in FACEMESH_LIPS for i in e}
    assert set(LIPS_OUTER) | set(LIPS_INNER) == lips
    assert set(JAW) <= {i for e in FACEMESH_FACE_OVAL for i in e}


def test_head_speed_of_a_steady_turn() -> None:
    pose = np.zeros((51, 6), np.float32)
    pose[:, 1] = np.radians(np.arange(51) * 1.0)  # 1 degree per frame
    stats = head_motion_stats(pose, fps=25.0)
    assert stats.mean == pytest.approx(25.0, rel=1e-3) and stats.std < 1e-2


def test_blinks_are_counted() -> None:
    lm = np.repeat(canonical_face()[None].astype(np.float64), 100, axis=0)
    for start in (20, 60):
        for idx in (159, 386):
            lm[start : start + 3, idx] = lm[start : start + 3, idx + (145 - 159 if idx == 159 else 374 - 386)]
    events = blink_events(eye_openness(lm))
    assert [s for s, _ in events] == [20, 60]


def test_image_metrics() -> None:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:64, :64]
    img = np.stack([xx * 3, yy * 3, (xx + yy) * 1.5], axis=-1).astype(np.uint8)  # smooth gradients
    assert ssim(img, img) == pytest.approx(1.0) and psnr(img, img) == float("inf")
    noisy = np.clip(img + rng.normal(scale=20, size=img.shape), 0, 255)
    assert ssim(noisy, img) < 0.95 and 15 < psnr(noisy, img) < 30


def test_range_ratio_and_closure_recall() -> None:
    from core.metrics.sync import LIPS_CLOSED, closure_recall, range_ratio, truth_closed_threshold

    t = np.clip(np.abs(np.sin(np.linspace(0, 12, 300))) - 0.1, 0, None) * 0.2  # lips close 4 times
    assert abs(range_ratio(t * 0.5, t) - 0.5) < 1e-6
    assert closure_recall(t, t) == 1.0
    assert closure_recall(np.full_like(t, 0.1), t) == 0.0  # a mouth that never closes
    late = np.roll(t, 1)  # one frame late still counts (±1 frame)
    assert closure_recall(late, t) == 1.0
    assert np.isnan(closure_recall(t, np.full_like(t, 0.1)))  # the truth never closes
    assert truth_closed_threshold(t) == LIPS_CLOSED
    assert truth_closed_threshold(t + 0.04) > LIPS_CLOSED  # a tracker that reads closed lips as slightly open


def test_axis_speeds_and_blink_rate_of_a_curve() -> None:
    from core.metrics.motion import axis_speeds, blinks_per_minute

    pose = np.zeros((101, 6), np.float32)
    pose[:, 1] = np.radians(np.arange(101) * 0.5)  # 0.5° per frame about y
    np.testing.assert_allclose(axis_speeds(pose, 25.0), [0.0, 12.5, 0.0], atol=1e-4)
    blink = np.zeros((1500, 2), np.float32)  # 60 s at 25 fps, 12 blinks
    for k in range(12):
        blink[100 + k * 120 : 106 + k * 120] = 1.0
    assert blinks_per_minute(blink, 25.0) == pytest.approx(12.0)
