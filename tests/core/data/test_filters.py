from __future__ import annotations

import numpy as np

from core.data.filters import paper_filter, parley_filter, recompose
from core.face.canonical import canonical_face
from core.face.geometry import apply_pose, mouth_aperture


def synthetic_track(T: int = 150, jitter_px: float = 0.8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A talking, slowly turning head in pixels; returns (clean, jittered)."""
    rng = np.random.default_rng(seed)
    can = canonical_face().astype(np.float64)
    t = np.arange(T) / 25.0
    expr = np.repeat(can[None], T, axis=0)
    expr[:, 14, 1] -= 0.006 * np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None)  # 3 Hz syllables
    pose = np.zeros((T, 6))
    pose[:, 1] = 0.15 * np.sin(2 * np.pi * 0.3 * t)
    clean = apply_pose(expr, pose) * 1500.0
    jittered = clean + rng.normal(scale=jitter_px, size=clean.shape)
    return clean, jittered


def test_parley_filter_removes_jitter_and_keeps_lip_motion() -> None:
    clean, noisy = synthetic_track()
    can = canonical_face()
    truth = parley_filter(clean, can)
    ours = parley_filter(noisy, can)
    paper = paper_filter(noisy, can)
    ap_truth = mouth_aperture(truth.expression_landmarks)
    err_ours = np.abs(mouth_aperture(ours.expression_landmarks) - ap_truth).mean()
    err_paper = np.abs(mouth_aperture(paper.expression_landmarks) - ap_truth).mean()
    err_raw = np.abs(mouth_aperture(noisy / 1500.0) - mouth_aperture(clean / 1500.0)).mean()
    assert err_ours < err_raw
    assert err_ours <= err_paper * 1.05
    assert recompose(ours).shape == clean.shape
