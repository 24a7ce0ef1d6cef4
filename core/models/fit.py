"""Fitting the landmark PCA on a prepared dataset, with a speaker-held-out check."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.data.manifest import manifest_clips
from core.data.splits import split_of
from core.errors import ParleyError
from core.models.pca import LandmarkPCA, explained_variance_on, fit_pca


def load_split(data_dir: Path) -> dict[str, list[np.ndarray]]:
    """Canonical-frame landmark clips of a prepared dataset, by split."""
    out: dict[str, list[np.ndarray]] = {"train": [], "val_seen": [], "val_unseen": []}
    for c in manifest_clips(data_dir):
        with np.load(data_dir / c["file"]) as z:
            out[split_of(c["key"], c["speaker"])].append(z["landmarks"])
    return out


def coefficient_range(pca: LandmarkPCA, clips: list[np.ndarray]) -> np.ndarray:
    """(K, 2) min and max coefficient over every frame of ``clips``, in units of each component's σ."""
    lo = np.full(pca.n_components, np.inf)
    hi = -lo
    for clip in clips:
        z = pca.encode(clip - clip.mean(axis=0)) / pca.sigma
        lo, hi = np.minimum(lo, z.min(axis=0)), np.maximum(hi, z.max(axis=0))
    return np.stack([lo, hi], axis=1).astype(np.float32)


def fit_landmark_pca(data_dir: Path, out: Path, n_components: int = 20) -> LandmarkPCA:
    """Fit on the training split; record the variance explained on held-out clips and speakers."""
    split = load_split(data_dir)
    if not split["train"]:
        raise ParleyError(f"{data_dir}: no training clips (speaker s1) in the manifest")
    pca = fit_pca(split["train"], n_components, data=f"GRID (CC BY 4.0), training speakers, {data_dir.name}")
    pca.metrics = {"explained_variance_train": float(pca.explained_variance_ratio.sum())}
    for name in ("val_seen", "val_unseen"):
        if split[name]:
            pca.metrics[f"explained_variance_{name}"] = explained_variance_on(pca, split[name])
    pca.coef_range = coefficient_range(pca, [c for clips in split.values() for c in clips])
    pca.save(out)
    return pca
