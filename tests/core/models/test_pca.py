from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import CheckpointError
from core.models.pca import LandmarkPCA, explained_variance_on, fit_pca

SHIPPED = Path(__file__).resolve().parents[3] / "core" / "assets" / "landmark_pca.safetensors"


def low_rank_clips(rank: int = 3, n: int = 6, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(rank, 468 * 3))
    clips = []
    for _ in range(n):
        identity = rng.normal(size=468 * 3)
        coef = rng.normal(size=(50, rank)) * np.array([3.0, 2.0, 1.0])[:rank]
        clips.append((identity + coef @ basis).reshape(50, 468, 3))
    return clips


def test_fit_recovers_low_rank_structure(tmp_path: Path) -> None:
    clips = low_rank_clips()
    pca = fit_pca(clips, n_components=5)
    assert pca.explained_variance_ratio[:3].sum() == pytest.approx(1.0, abs=1e-6)
    assert explained_variance_on(pca, low_rank_clips(seed=0)[:2]) == pytest.approx(1.0, abs=1e-6)
    x = clips[0] - clips[0].mean(axis=0)
    np.testing.assert_allclose(pca.decode(pca.encode(x)), x, atol=1e-3)
    path = pca.save(tmp_path / "pca.safetensors")
    again = LandmarkPCA.load(path)
    np.testing.assert_array_equal(again.components, pca.components)
    assert again.config == pca.config
    assert (tmp_path / "pca.json").is_file()


def test_refuses_a_pickle_or_garbage(tmp_path: Path) -> None:
    import pickle

    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"components": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        LandmarkPCA.load(evil)
    with pytest.raises(CheckpointError, match="not found"):
        LandmarkPCA.load(tmp_path / "missing.safetensors")


def test_shipped_pca() -> None:
    pca = LandmarkPCA.load(SHIPPED)
    assert pca.n_components == 20
    assert pca.metrics["explained_variance_val_unseen"] > 0.95
    assert np.isfinite(pca.components).all()
