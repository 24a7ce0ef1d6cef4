"""PCA of 3D landmarks: the expression space (20 components, as in Rhythmic Head Motion).

Each clip's identity is its mean canonical-frame shape; the PCA models what speech and expression
add on top (displacements in metres). Stored as safetensors (components, mean, variances) with
the config and figures as JSON metadata.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from core.errors import CheckpointError

N_POINTS = 468


@dataclass
class PCAConfig:
    """How the PCA was fitted (saved in the file)."""

    n_components: int = 20
    identity: str = "per-clip mean shape"
    data: str = ""
    clips: int = 0
    frames: int = 0


@dataclass
class LandmarkPCA:
    """Expression PCA over flattened (468 × 3) landmark displacements."""

    components: np.ndarray  # (K, 1404) orthonormal rows
    mean: np.ndarray  # (1404,)
    variance: np.ndarray  # (K,) variance along each component
    total_variance: float
    config: PCAConfig = field(default_factory=PCAConfig)
    metrics: dict[str, float] = field(default_factory=dict)
    #: (K, 2) smallest and largest coefficient seen in the data, in units of σ (what shape-key sliders must cover)
    coef_range: np.ndarray | None = None

    @property
    def sigma(self) -> np.ndarray:
        """(K,) standard deviation along each component."""
        return np.sqrt(np.maximum(self.variance, 1e-12)).astype(np.float32)

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        return self.variance / self.total_variance

    def encode(self, displacement: np.ndarray) -> np.ndarray:
        """(T, 468, 3) displacements → (T, K) coefficients."""
        flat = displacement.reshape(len(displacement), -1) - self.mean
        return (flat @ self.components.T).astype(np.float32)

    def decode(self, coeffs: np.ndarray) -> np.ndarray:
        """(T, K) coefficients → (T, 468, 3) displacements."""
        flat = coeffs @ self.components[: coeffs.shape[1]] + self.mean
        return flat.reshape(len(coeffs), N_POINTS, 3).astype(np.float32)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "kind": "parley.landmark_pca",
            "config": json.dumps(asdict(self.config)),
            "metrics": json.dumps(self.metrics),
            "total_variance": repr(self.total_variance),
        }
        from core.models.checkpoint import _RECORD

        meta.update(_RECORD)  # the git commit and data hash of a `parley data pca` run
        tensors = {
            "components": self.components.astype(np.float32),
            "mean": self.mean.astype(np.float32),
            "variance": self.variance.astype(np.float32),
        }
        if self.coef_range is not None:
            tensors["coef_range"] = self.coef_range.astype(np.float32)
        save_file(tensors, str(path), metadata=meta)
        card = {"config": asdict(self.config), "metrics": self.metrics,
                "explained_variance_ratio": [round(float(v), 6) for v in self.explained_variance_ratio]}
        if self.coef_range is not None:
            card["coefficient_range_sigma"] = np.round(self.coef_range, 3).tolist()
        path.with_suffix(".json").write_text(json.dumps(card, indent=1))
        return path

    @classmethod
    def load(cls, path: str | Path) -> LandmarkPCA:
        """Load a PCA file.

        Raises:
            CheckpointError: missing, not safetensors, or not a Parley PCA.
        """
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"{path}: PCA model not found")
        try:
            from safetensors import safe_open

            with safe_open(str(path), framework="numpy") as f:
                meta = f.metadata() or {}
            tensors = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from exc
        if meta.get("kind") != "parley.landmark_pca":
            raise CheckpointError(f"{path}: not a Parley landmark PCA (kind={meta.get('kind')!r})")
        comps = tensors["components"]
        if comps.ndim != 2 or comps.shape[1] != N_POINTS * 3:
            raise CheckpointError(f"{path}: PCA components have shape {comps.shape}, expected (K, {N_POINTS * 3})")
        return cls(
            components=comps,
            mean=tensors["mean"],
            variance=tensors["variance"],
            total_variance=float(meta["total_variance"]),
            config=PCAConfig(**json.loads(meta["config"])),
            metrics=json.loads(meta.get("metrics", "{}")),
            coef_range=tensors.get("coef_range"),
        )


def fit_pca(clips: list[np.ndarray], n_components: int = 20, data: str = "") -> LandmarkPCA:
    """Fit on canonical-frame landmark clips, each (T, 468, 3); identity = the clip's mean shape."""
    d = N_POINTS * 3
    cov = np.zeros((d, d))
    total = np.zeros(d)
    n = 0
    for clip in clips:
        x = (clip - clip.mean(axis=0)).reshape(len(clip), -1).astype(np.float64)
        cov += x.T @ x
        total += x.sum(axis=0)
        n += len(x)
    mean = total / n
    cov = cov / n - np.outer(mean, mean)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:n_components]
    comps = vecs[:, order].T
    comps *= np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])[:, None]  # deterministic signs
    cfg = PCAConfig(n_components=n_components, data=data, clips=len(clips), frames=n)
    return LandmarkPCA(comps.astype(np.float32), mean.astype(np.float32), vals[order].astype(np.float32),
                       float(np.trace(cov)), cfg)


def explained_variance_on(pca: LandmarkPCA, clips: list[np.ndarray]) -> float:
    """Fraction of the displacement variance of other clips that the components reconstruct."""
    err = tot = 0.0
    for clip in clips:
        x = clip - clip.mean(axis=0)
        rec = pca.decode(pca.encode(x))
        err += float(((x - rec) ** 2).sum())
        tot += float(((x.reshape(len(x), -1) - pca.mean) ** 2).sum())
    return 1.0 - err / tot
