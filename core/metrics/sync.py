"""Lip-sync figures on mouth aperture: Pearson r, best lag, amplitude ratio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equal-length 1-D sequences (0 when either is constant)."""
    a = np.asarray(a, np.float64) - np.mean(a)
    b = np.asarray(b, np.float64) - np.mean(b)
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else 0.0


def lagged_pearson(pred: np.ndarray, truth: np.ndarray, lag: int) -> float:
    """r between ``pred[t]`` and ``truth[t - lag]`` over their overlap (positive lag: pred is late)."""
    if lag >= 0:
        a, b = pred[lag:], truth[: len(truth) - lag]
    else:
        a, b = pred[: len(pred) + lag], truth[-lag:]
    n = min(len(a), len(b))
    return pearson(a[:n], b[:n]) if n > 2 else 0.0


def best_lag(pred: np.ndarray, truth: np.ndarray, max_lag: int = 10) -> tuple[int, float]:
    """The lag in [-max_lag, max_lag] with the highest r, and that r (positive lag: pred is late)."""
    scores = {k: lagged_pearson(pred, truth, k) for k in range(-max_lag, max_lag + 1)}
    k = max(scores, key=lambda j: (scores[j], -abs(j)))
    return k, scores[k]


@dataclass
class SyncScores:
    """Aperture agreement between a prediction and the truth."""

    r_lag0: float
    best_lag: int
    r_best: float
    amplitude_ratio: float  # std(pred) / std(truth)


def sync_scores(pred_aperture: np.ndarray, true_aperture: np.ndarray, max_lag: int = 10) -> SyncScores:
    """Compare two aperture sequences (trimmed to the shorter)."""
    n = min(len(pred_aperture), len(true_aperture))
    p, t = np.asarray(pred_aperture[:n], np.float64), np.asarray(true_aperture[:n], np.float64)
    lag, rb = best_lag(p, t, max_lag)
    sd = float(np.std(t))
    return SyncScores(pearson(p, t), lag, rb, float(np.std(p)) / sd if sd > 0 else float("nan"))
