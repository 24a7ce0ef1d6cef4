"""Landmark distances (LMD, normalised LMD) and StableFace's Motion Stability Index."""

from __future__ import annotations

import numpy as np

from core.face.geometry import EYE_OUTER_L, EYE_OUTER_R
from core.metrics.regions import JAW, LIPS, MOUTH_CORNERS


def lmd(pred: np.ndarray, truth: np.ndarray, points: tuple[int, ...] = LIPS) -> float:
    """Mean L2 distance over ``points`` after giving both the same per-frame mean (Kesim & Erzin).

    Args:
        pred, truth: (T, 468, D) landmarks, same units; trimmed to the shorter.
    """
    n = min(len(pred), len(truth))
    p = np.asarray(pred[:n, list(points)], np.float64)
    t = np.asarray(truth[:n, list(points)], np.float64)
    p = p - p.mean(axis=1, keepdims=True)
    t = t - t.mean(axis=1, keepdims=True)
    return float(np.linalg.norm(p - t, axis=-1).mean())


def normalised_lmd(pred: np.ndarray, truth: np.ndarray, points: tuple[int, ...] = LIPS) -> float:
    """LMD divided by the truth's mean outer eye-corner distance (scale-free)."""
    n = min(len(pred), len(truth))
    eyes = np.linalg.norm(truth[:n, EYE_OUTER_R] - truth[:n, EYE_OUTER_L], axis=-1).mean()
    return lmd(pred, truth, points) / float(eyes)


def msi(landmarks: np.ndarray, points: tuple[int, ...], first_frames: int = 5, mouth_width: float = 64.0) -> float:
    """Motion Stability Index (Ling et al. 2022, eqs. 2–4) on the image-plane (x, y) of ``points``.

    Scale is fixed as StableFace fixes it: coordinates are rescaled so that the mouth width over the
    first five frames is 0.25 of a 256-pixel crop (64 px). Per point k: v_t = l_{t+1} − l_t,
    a_t = v_{t+1} − v_t, σ_k = mean_t |a_t − ā|²; MSI = mean_k 1/σ_k. Higher is steadier.

    Args:
        landmarks: (T, 468, 2|3), T ≥ 4.
    """
    xy = np.asarray(landmarks[..., :2], np.float64)
    if len(xy) < 4:
        raise ValueError("MSI needs at least 4 frames")
    width = np.linalg.norm(xy[:first_frames, MOUTH_CORNERS[0]] - xy[:first_frames, MOUTH_CORNERS[1]], axis=-1).mean()
    pts = xy[:, list(points)] * (mouth_width / width)  # (T, K, 2)
    acc = np.diff(pts, n=2, axis=0)  # (T-2, K, 2)
    var = ((acc - acc.mean(axis=0)) ** 2).sum(axis=-1).mean(axis=0)  # (K,)
    return float(np.mean(1.0 / np.maximum(var, 1e-12)))


def msi_lips(landmarks: np.ndarray) -> float:
    return msi(landmarks, LIPS)


def msi_jaw(landmarks: np.ndarray) -> float:
    return msi(landmarks, JAW)
