"""The shape-key rig: value ±1 spans the data, key values invert the coefficients, deltas follow the PCA."""

from __future__ import annotations

import numpy as np

from core.animate import load_models
from core.face.rig import shape_key_rig


def test_rig_spans_the_data_and_maps_coefficients() -> None:
    m = load_models()
    rig = shape_key_rig(m.pca, m.blink.displacement)
    assert rig.names[0] == "EXP_00" and len(rig.names) == 20 and rig.blink_names == ("BLINK_R", "BLINK_L")
    assert np.allclose(np.abs(rig.ranges).max(axis=1), 1.0)  # the most extreme value of each key is exactly ±1
    assert rig.deltas.shape == (20, 468, 3) and rig.blink_deltas.shape == (2, 468, 3)
    np.testing.assert_allclose(rig.deltas[3].reshape(-1), m.pca.components[3] * rig.scale[3], rtol=1e-5)
    q = np.random.default_rng(0).normal(size=(5, 20)).astype(np.float32) * rig.scale[None].astype(np.float32)
    np.testing.assert_allclose(rig.key_values(q) * rig.scale[None], q, rtol=1e-5)
    js = rig.to_json()
    assert set(js) == {"names", "sigma", "scale", "ranges", "deltas", "blink_names", "blink_deltas"}
