"""Prepared GRID clips in the form the trainers need, split by speaker (``core.data.splits``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.manifest import manifest_clips
from core.data.splits import split_of
from core.face.geometry import lip_gap, mouth_aperture
from core.face.neutral import clip_rest
from core.metrics.motion import eye_openness
from core.models.pca import LandmarkPCA


@dataclass
class Clip:
    """One prepared clip: audio, expression coefficients, pose and what validation needs."""

    key: str
    speaker: str
    split: str
    fps: float
    audio: np.ndarray  # (N,) float32, 16 kHz
    coeffs: np.ndarray  # (T, 20) PCA coefficients of (landmarks − the clip's mean shape)
    identity: np.ndarray  # (T, 20) identity feature of each frame as a reference (offset from canonical)
    pose: np.ndarray  # (T, 6)
    openness: np.ndarray  # (T, 2) eye openness
    aperture: np.ndarray  # (T,) mouth aperture of the tracked footage
    frontal_index: int
    rest: np.ndarray  # (468, 3) the clip's rest: lips together (``core.face.neutral.clip_rest``)
    rest_coeffs: np.ndarray  # (20,) the rest in the same coordinates as ``coeffs``
    gap: np.ndarray  # (T,) signed vertical lip gap (``core.face.geometry.lip_gap``)
    landmarks: np.ndarray | None = None  # (T, 468, 3), kept for validation clips only

    @property
    def frames(self) -> int:
        return len(self.coeffs)


def load_clips(
    data_dir: Path,
    pca: LandmarkPCA,
    canonical: np.ndarray,
    splits: tuple[str, ...] = ("train", "val_seen", "val_unseen"),
) -> dict[str, list[Clip]]:
    """Read every clip of a prepared dataset (``parley data prepare``), grouped by split.

    Raises:
        ParleyError: no manifest (the dataset was not prepared).
    """
    comps = pca.components.astype(np.float32)
    out: dict[str, list[Clip]] = {s: [] for s in splits}
    for c in manifest_clips(data_dir):
        split = split_of(c["key"], c["speaker"])
        if split not in out:
            continue
        with np.load(data_dir / c["file"]) as z:
            lm = z["landmarks"].astype(np.float32)
            audio = z["audio"].astype(np.float32) / 32768.0
            pose = z["pose"].astype(np.float32)
            fps = float(z["fps"])
        flat = lm.reshape(len(lm), -1)
        coeffs = ((flat - flat.mean(axis=0)) @ comps.T).astype(np.float32)
        ident = ((flat - canonical.reshape(1, -1)) @ comps.T).astype(np.float32)
        keep = lm if split != "train" else None
        rest = clip_rest(lm)
        rest_coeffs = ((rest.reshape(-1) - flat.mean(axis=0)) @ comps.T).astype(np.float32)
        out[split].append(Clip(c["key"], c["speaker"], split, fps, audio, coeffs, ident, pose,
                               eye_openness(lm).astype(np.float32), mouth_aperture(lm).astype(np.float32),
                               int(c.get("frontal_index", 0)), rest, rest_coeffs, lip_gap(lm).astype(np.float32),
                               keep))
    return out
