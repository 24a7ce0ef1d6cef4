"""The committed MediaPipe → ICT correspondence: well formed, and (with ../shared) it lands on the ICT landmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[3]
ASSET = REPO / "core" / "assets" / "ict_correspondence.npz"
ICT = REPO.parent / "shared" / "data" / "ict-facekit" / "ict_face_model_light.npz"


def test_each_point_has_a_face_triangle_and_weights() -> None:
    with np.load(ASSET) as z:
        tri, w, res = z["triangles"], z["weights"], z["residual_mm"]
    assert tri.shape == (468, 3) and w.shape == (468, 3) and res.shape == (468,)
    assert int(tri.min()) >= 0 and int(tri.max()) < 9409  # the face area of the ICT head
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-5)
    assert (w >= 0).all() and float(np.median(res)) < 1.0 and float(res.max()) < 5.0


def test_points_land_where_the_ict_head_has_them() -> None:
    if not ICT.is_file():
        pytest.skip("../shared/data/ict-facekit is not present (fresh clone)")
    mod = load_script("ict_correspondence")
    with np.load(ICT) as z:
        neutral = z["neutral"].astype(np.float64)
    with np.load(ASSET) as z:
        on_ict = (z["weights"][:, :, None] * neutral[z["triangles"]]).sum(1)
    inner = slice(17, 68)  # eyes, brows, nose, lips (the jaw line is a 2D silhouette in the 68-point markup)
    gap = np.linalg.norm(on_ict[list(mod.MP_68[inner])] - neutral[list(mod.ICT_68[inner])], axis=1) * 10  # mm
    assert float(np.median(gap)) < 1.0 and float(gap.max()) < 5.0
    lips = np.linalg.norm(on_ict[13] - on_ict[14]) * 10  # the neutral ICT head's lips touch
    assert lips < 2.0
