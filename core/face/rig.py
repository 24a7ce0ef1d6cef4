"""The shape-key rig of a Parley face: what a client needs to turn result curves into shape-key values.

One key per expression component (``EXP_00``…) whose value 1 is the largest coefficient of that component seen in
the PCA's data, so the data spans at most [−1, 1] and fits Blender's slider limits, and the two blink keys. A
result's expression coefficient c_k is key value c_k / scale_k; a blink value is the key value itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.models.pca import LandmarkPCA


@dataclass(frozen=True)
class ShapeKeyRig:
    names: tuple[str, ...]  # EXP_00 … EXP_K-1
    sigma: np.ndarray  # (K,) standard deviation of each component in the data
    scale: np.ndarray  # (K,) the coefficient at key value 1
    ranges: np.ndarray  # (K, 2) smallest and largest key value seen in the data (within [−1, 1])
    deltas: np.ndarray  # (K, 468, 3) vertex offsets at key value 1, metres
    blink_names: tuple[str, ...]  # BLINK_R, BLINK_L
    blink_deltas: np.ndarray  # (2, 468, 3) vertex offsets of a closed eye

    def key_values(self, expression: np.ndarray) -> np.ndarray:
        """Result expression coefficients (T, K) → shape-key values (T, K)."""
        return (np.asarray(expression, np.float64) / self.scale[None, : expression.shape[1]]).astype(np.float32)

    def to_json(self, digits: int = 7) -> dict[str, Any]:
        r = lambda a: np.round(np.asarray(a, np.float64), digits).tolist()  # noqa: E731
        return {"names": list(self.names), "sigma": r(self.sigma), "scale": r(self.scale), "ranges": r(self.ranges),
                "deltas": r(self.deltas), "blink_names": list(self.blink_names),
                "blink_deltas": r(self.blink_deltas)}  # fmt: skip


def shape_key_rig(pca: LandmarkPCA, blink_displacement: np.ndarray) -> ShapeKeyRig:
    """The rig of the landmark PCA (and the blink model's lid displacements). Without a recorded coefficient
    range, value 1 is 3 σ."""
    sigma = pca.sigma.astype(np.float64)
    if pca.coef_range is not None:
        extreme = np.abs(pca.coef_range).max(axis=1)
        scale = sigma * extreme
        ranges = pca.coef_range / extreme[:, None]
    else:
        scale = 3 * sigma
        ranges = np.tile([-1.0, 1.0], (len(sigma), 1))
    deltas = pca.components.reshape(len(sigma), -1, 3) * scale[:, None, None]
    return ShapeKeyRig(tuple(f"EXP_{k:02d}" for k in range(len(sigma))), sigma, scale, ranges, deltas,
                       ("BLINK_R", "BLINK_L"), np.asarray(blink_displacement, np.float64))  # fmt: skip
