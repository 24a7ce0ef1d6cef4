"""Head-motion and blink statistics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.face.geometry import euler_to_rotation, rotation_angle
from core.metrics.regions import LEFT_EYE_CORNERS, LEFT_EYE_LIDS, RIGHT_EYE_CORNERS, RIGHT_EYE_LIDS


@dataclass
class HeadMotionStats:
    """Angular speed of the head (degrees per second)."""

    mean: float
    std: float
    p95: float
    rotation_range_deg: float  # mean over axes of (max − min) rotation


def head_motion_stats(pose: np.ndarray, fps: float) -> HeadMotionStats:
    """Statistics of the head's angular speed from a (T, 6) pose track."""
    rot = euler_to_rotation(pose[:, :3])
    if len(rot) < 2:
        return HeadMotionStats(0.0, 0.0, 0.0, 0.0)
    rel = np.einsum("tij,tkj->tik", rot[1:], rot[:-1])  # R_{t+1} R_t^T
    speed = np.degrees(rotation_angle(rel)) * fps
    rng = float(np.degrees(np.ptp(pose[:, :3], axis=0)).mean())
    return HeadMotionStats(float(speed.mean()), float(speed.std()), float(np.percentile(speed, 95)), rng)


def eye_openness(landmarks: np.ndarray) -> np.ndarray:
    """(T, 2) lid gap / eye width for the right and left eye."""
    out = []
    for (up, lo), (c0, c1) in ((RIGHT_EYE_LIDS, RIGHT_EYE_CORNERS), (LEFT_EYE_LIDS, LEFT_EYE_CORNERS)):
        gap = np.linalg.norm(landmarks[:, up] - landmarks[:, lo], axis=-1)
        width = np.linalg.norm(landmarks[:, c0] - landmarks[:, c1], axis=-1)
        out.append(gap / np.maximum(width, 1e-9))
    return np.stack(out, axis=1)


def blink_events(openness: np.ndarray, threshold: float = 0.6) -> list[tuple[int, int]]:
    """(start, end) frame spans where mean eye openness falls under ``threshold`` × its 90th percentile."""
    o = openness.mean(axis=1) if openness.ndim == 2 else openness
    ref = np.percentile(o, 90)
    closed = o < threshold * ref
    spans = []
    t = 0
    while t < len(closed):
        if closed[t]:
            s = t
            while t < len(closed) and closed[t]:
                t += 1
            spans.append((s, t))
        t += 1
    return spans


def blink_rate(landmarks: np.ndarray, fps: float) -> float:
    """Blinks per minute in a (T, 468, 3) landmark track."""
    events = blink_events(eye_openness(landmarks))
    minutes = len(landmarks) / fps / 60.0
    return len(events) / minutes if minutes > 0 else 0.0


def axis_speeds(pose: np.ndarray, fps: float) -> np.ndarray:
    """Mean absolute angular speed (degrees per second) about each axis (rx, ry, rz) of a (T, 6) pose track."""
    if len(pose) < 2:
        return np.zeros(3)
    return np.degrees(np.abs(np.diff(pose[:, :3], axis=0)).mean(axis=0)) * fps


def blinks_per_minute(blink: np.ndarray, fps: float, threshold: float = 0.5) -> float:
    """Blink onsets (the mean closure curve rising through ``threshold``) per minute of a (T, 2) blink curve."""
    c = blink.mean(axis=1) if blink.ndim == 2 else blink
    onsets = int(((c[1:] >= threshold) & (c[:-1] < threshold)).sum() + (c[0] >= threshold))
    minutes = len(c) / fps / 60.0
    return onsets / minutes if minutes > 0 else 0.0
