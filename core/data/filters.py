"""Landmark jitter removal before pose/expression alignment.

Kesim & Erzin (2021) filter twice: a 5-point moving average on the landmarks, then a 5-point
Gaussian before computing the alignment. Parley separates the two sources of jitter instead:
rigid jitter (the whole mesh shaking, which dominates a per-frame tracker) is removed from the
6-DoF pose, where it is one smooth signal; non-rigid jitter is removed from the canonical-frame
landmarks with a Savitzky–Golay filter, which keeps the peaks of fast lip closures that a moving
average flattens. ``benchmarks/bench_filters.py`` compares both on GRID.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, uniform_filter1d
from scipy.signal import savgol_filter

from core.face.geometry import Disentangled, apply_pose, disentangle


def moving_average(x: np.ndarray, width: int = 5) -> np.ndarray:
    """Centred moving average along axis 0 (edges reflected)."""
    return uniform_filter1d(np.asarray(x, np.float64), size=width, axis=0, mode="nearest").astype(np.float32)


def gaussian5(x: np.ndarray) -> np.ndarray:
    """5-point Gaussian (σ = 1 frame, truncated at ±2) along axis 0."""
    return gaussian_filter1d(np.asarray(x, np.float64), sigma=1.0, axis=0, truncate=2.0, mode="nearest").astype(np.float32)


def savgol(x: np.ndarray, window: int = 7, order: int = 2) -> np.ndarray:
    """Savitzky–Golay smoothing along axis 0; short sequences are returned unchanged."""
    if len(x) < window:
        return np.asarray(x, np.float32)
    return savgol_filter(np.asarray(x, np.float64), window, order, axis=0, mode="interp").astype(np.float32)


def paper_filter(camera_landmarks: np.ndarray, canonical: np.ndarray) -> Disentangled:
    """Kesim & Erzin: MA5 on landmarks, G5 on top for the alignment, expression from the MA5 landmarks."""
    ma = moving_average(camera_landmarks, 5)
    return disentangle(gaussian5(ma), canonical, expression_from=ma)


@dataclass(frozen=True)
class FilterConfig:
    """Parley's two-part jitter filter."""

    pose_sigma: float = 1.5  # frames; Gaussian on the 6-DoF pose
    expression_window: int = 7  # Savitzky–Golay window on canonical-frame landmarks
    expression_order: int = 2


def parley_filter(camera_landmarks: np.ndarray, canonical: np.ndarray, cfg: FilterConfig = FilterConfig()) -> Disentangled:
    """Disentangle, then smooth the pose (rigid jitter) and the expression landmarks (non-rigid jitter)."""
    parts = disentangle(camera_landmarks, canonical)
    if len(camera_landmarks) < 3:
        return parts
    pose = np.asarray(parts.pose, np.float64).copy()
    pose[:, :3] = np.unwrap(pose[:, :3], axis=0)
    parts.pose = gaussian_filter1d(pose, cfg.pose_sigma, axis=0, mode="nearest").astype(np.float32)
    parts.expression_landmarks = savgol(parts.expression_landmarks, cfg.expression_window, cfg.expression_order)
    return parts


def recompose(parts: Disentangled) -> np.ndarray:
    """Canonical-frame landmarks placed back in their (metric) head pose (T, 468, 3)."""
    return apply_pose(parts.expression_landmarks, parts.pose)
