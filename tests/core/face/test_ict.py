"""The shipped ICT head asset and its fit to landmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import CheckpointError
from core.face.arkit import ARKIT_NAMES, INDEX
from core.face.canonical import canonical_face
from core.face.geometry import Similarity
from core.face.ict import fit_head, load_head, rest_vertices
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[3]
ICT = REPO.parent / "shared" / "data" / "ict-facekit" / "ict_face_model_light.npz"


def test_arkit_names_are_apples_52_in_order() -> None:
    assert len(ARKIT_NAMES) == 52 and ARKIT_NAMES[0] == "eyeBlinkLeft" and ARKIT_NAMES[-1] == "tongueOut"
    assert "browInnerUp" in ARKIT_NAMES and "cheekPuff" in ARKIT_NAMES and "browInnerUpLeft" not in ARKIT_NAMES


def test_asset_is_a_whole_head_with_52_shapes() -> None:
    h = load_head()
    assert h.neutral.shape == (25959, 3) and h.arkit.shape == (52, 25959, 3) and h.n_modes == 60
    assert {"face", "head", "teeth", "gums_tongue", "sclera", "iris", "eyelashes"} <= set(h.part_names)
    assert h.triangles.max() < len(h.neutral) and h.triangles_uv.max() < len(h.uv)
    # blink closes the subject's left eye (+x), tongueOut moves the tongue forward and nothing else
    blink = np.linalg.norm(h.arkit[INDEX["eyeBlinkLeft"]], axis=1) > 0.1
    assert h.neutral[blink, 0].min() > 0
    tongue = h.arkit[INDEX["tongueOut"]]
    assert tongue[:, 2].max() > 1.5 and np.abs(tongue).sum(1)[:9409].max() == 0


def test_fit_recovers_a_known_face_and_its_expression() -> None:
    h = load_head()
    rng = np.random.default_rng(0)
    alpha = rng.normal(0, 1.0, h.n_modes).astype(np.float32)
    beta = np.zeros(52, np.float32)
    beta[INDEX["jawOpen"]] = 0.6
    beta[INDEX["mouthSmileLeft"]] = 0.4
    shape = h.neutral + np.tensordot(alpha, h.identity, 1) + np.tensordot(beta, h.arkit, 1)
    sim = Similarity(np.array([0.0095]), np.eye(3)[None], np.array([[0.0, 0.01, -0.02]]))
    target = sim.apply(h.at_points(shape)[None])[0]
    fit = fit_head(target, h)
    assert float(fit.error.mean()) < 2e-4  # metres
    assert abs(fit.arkit[INDEX["jawOpen"]] - 0.6) < 0.1 and abs(fit.arkit[INDEX["mouthSmileLeft"]] - 0.4) < 0.15
    assert ((fit.arkit >= 0) & (fit.arkit <= 1)).all()
    rest = rest_vertices(fit, h)
    assert rest.shape == h.neutral.shape and np.isfinite(rest).all()


def test_fit_to_parleys_canonical_face_is_within_two_percent() -> None:
    face = canonical_face()
    fit = fit_head(face)
    assert float(fit.error.mean() / np.linalg.norm(face[33] - face[263])) < 0.02


def test_a_broken_asset_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "head.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="head.npz"):
        load_head.__wrapped__(bad)


def test_build_script_reproduces_the_shipped_asset(tmp_path: Path) -> None:
    if not ICT.is_file():
        pytest.skip("../shared/data/ict-facekit is not present (fresh clone)")
    mod = load_script("build_ict_head")
    import sys

    argv = sys.argv
    sys.argv = ["build_ict_head.py", "--out", str(tmp_path / "head.npz")]
    try:
        assert mod.main() == 0
    finally:
        sys.argv = argv
    with np.load(tmp_path / "head.npz") as a, np.load(REPO / "core" / "assets" / "ict_head.npz") as b:
        for k in ("neutral", "triangles", "identity", "arkit", "uv"):
            np.testing.assert_array_equal(a[k], b[k])
