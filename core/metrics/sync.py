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


#: Mouth aperture (inner-lip gap / outer eye-corner distance) under which the lips count as touching: about
#: 2.5 mm on an average face. MediaPipe reads closed lips at 0–0.015 on GRID and dev-av footage.
LIPS_CLOSED = 0.025


def range_ratio(pred: np.ndarray, truth: np.ndarray, lo: float = 5.0, hi: float = 95.0) -> float:
    """(p95 − p5) of the prediction over that of the truth: how far the mouth travels, robust to outliers."""
    n = min(len(pred), len(truth))
    spread = lambda a: float(np.percentile(a[:n], hi) - np.percentile(a[:n], lo))  # noqa: E731
    sd = spread(np.asarray(truth, np.float64))
    return spread(np.asarray(pred, np.float64)) / sd if sd > 0 else float("nan")


def truth_closed_threshold(truth: np.ndarray) -> float:
    """Aperture under which tracked footage counts as lips touching: ``LIPS_CLOSED``, or the clip's own 5th
    percentile + 0.01 where that is higher (at most 2 × ``LIPS_CLOSED``) — a tracker reads the closed mouth of a
    small, low-resolution face (256² interview footage) as slightly open."""
    return float(np.clip(np.percentile(truth, 5) + 0.01, LIPS_CLOSED, 2 * LIPS_CLOSED))


def closure_recall(pred: np.ndarray, truth: np.ndarray, closed: float = LIPS_CLOSED, tolerance: int = 1) -> float:
    """Share of frames where the truth's lips touch in which the prediction's lips touch too (±``tolerance`` frames).

    The prediction's lips touch under ``closed``; the truth's under ``truth_closed_threshold``. NaN when the truth
    never closes its lips.
    """
    n = min(len(pred), len(truth))
    p, t = np.asarray(pred[:n]) < closed, np.asarray(truth[:n]) < truth_closed_threshold(truth[:n])
    if not t.any():
        return float("nan")
    near = p.copy()
    for k in range(1, tolerance + 1):
        near[k:] |= p[:-k]
        near[:-k] |= p[k:]
    return float(near[t].mean())
