"""The canonical face: the mean GRID face in a frontal head frame, in metres.

``parley data prepare`` fits it (generalised Procrustes on the stable points) and the repository
ships the result as ``core/assets/canonical_face.npy``. The head frame: x to the viewer's right,
y up, z towards the camera; the origin sits 8 cm behind the mean of the landmarks, near where a
head turns, so that rotations in Blender look like a head turning rather than a mask spinning.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from core.errors import CheckpointError
from core.face.geometry import EYE_OUTER_L, EYE_OUTER_R, STABLE_POINTS, fit_similarity

ASSET = Path(__file__).resolve().parents[1] / "assets" / "canonical_face.npy"
#: Outer eye-corner distance of an average adult face (metres); sets the canonical scale.
EYE_CORNER_DISTANCE_M = 0.09
PIVOT_BEHIND_M = 0.08
FOREHEAD, CHIN = 10, 152


@lru_cache(maxsize=1)
def canonical_face() -> np.ndarray:
    """The shipped canonical landmarks (468, 3) float32, metres."""
    if not ASSET.is_file():
        raise CheckpointError(f"{ASSET}: the canonical face is missing; run `parley data prepare` to fit it")
    arr = np.load(ASSET, allow_pickle=False)
    if arr.shape != (468, 3) or not np.isfinite(arr).all():
        raise CheckpointError(f"{ASSET}: not a valid canonical face (shape {arr.shape})")
    return arr.astype(np.float32)


def mirror_pairs(shape: np.ndarray) -> np.ndarray:
    """For each point, the index of its mirror partner across the face's mid-plane (468,)."""
    c = shape - shape.mean(axis=0)
    mirrored = c * np.array([-1.0, 1.0, 1.0])
    d = np.linalg.norm(c[:, None, :] - mirrored[None, :, :], axis=-1)
    return np.asarray(d.argmin(axis=0))


def frontalize(shape: np.ndarray) -> np.ndarray:
    """Rotate, scale and place a roughly frontal face shape (468, 3) into the canonical head frame."""
    s = shape - shape.mean(axis=0)
    pairs = mirror_pairs(s)
    lateral = s - s[pairs]  # points on the face's left minus their right partners
    x = lateral[np.abs(lateral[:, 0]) > 1e-9]
    x = (x * np.sign(x[:, :1])).sum(axis=0)
    if np.dot(x, s[EYE_OUTER_L] - s[EYE_OUTER_R]) < 0:
        x = -x
    x /= np.linalg.norm(x)
    y = s[FOREHEAD] - s[CHIN]
    y -= np.dot(y, x) * x
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    out = s @ np.stack([x, y, z], axis=1)
    out *= EYE_CORNER_DISTANCE_M / np.linalg.norm(out[EYE_OUTER_L] - out[EYE_OUTER_R])
    out[:, 2] += PIVOT_BEHIND_M
    out[:, 0] -= out[:, 0].mean()
    return out.astype(np.float32)


def fit_canonical(tracks: list[np.ndarray], iterations: int = 6, stride: int = 5) -> np.ndarray:
    """Generalised Procrustes mean of camera-frame tracks (each (T, 468, 3)), frontalised.

    Args:
        tracks: landmark tracks in the camera frame (pixels, y up, z towards the camera).
        iterations: Procrustes rounds.
        stride: use every ``stride``-th frame.
    """
    frames = np.concatenate([t[::stride] for t in tracks], axis=0).astype(np.float64)  # (N, 468, 3)
    mean = frames[0] - frames[0].mean(axis=0)
    for _ in range(iterations):
        sim = fit_similarity(frames, mean, STABLE_POINTS)
        aligned = sim.invert_apply(frames)
        new = aligned.mean(axis=0)
        new -= new.mean(axis=0)
        mean = new * np.sqrt((mean**2).sum() / (new**2).sum())  # keep the scale from drifting
    return frontalize(mean)
