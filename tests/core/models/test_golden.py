"""One golden test per shipped checkpoint: fixed inputs give the stored outputs (``scripts/make_golden.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "tests" / "fixtures" / "golden" / "golden.npz"


@pytest.fixture(scope="module")
def outputs() -> dict[str, np.ndarray]:
    spec = importlib.util.spec_from_file_location("make_golden", REPO / "scripts" / "make_golden.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return dict(mod.golden_outputs())


@pytest.mark.parametrize("name", ["phonetic", "expression_text", "expression", "expression_shaped", "visemes",
                                  "motion", "blink", "smoother",
                                  "neutral_rest", "neutral_expression", "pca", "head_fit", "arkit", "spont_f0",
                                  "spont_pose", "spont_blink", "spont_gaze", "spont_brows", "refiner",
                                  "refiner_video"])
def test_shipped_checkpoint_gives_its_golden_output(outputs: dict[str, np.ndarray], name: str) -> None:
    with np.load(GOLDEN) as z:
        want = z[name]
    got = outputs[name]
    assert got.shape == want.shape
    scale = float(np.abs(want).max()) or 1.0
    np.testing.assert_allclose(got, want, atol=1e-4 * scale, rtol=1e-3)
