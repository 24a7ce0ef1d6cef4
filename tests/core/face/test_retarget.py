"""Landmark motion → ARKit weights."""

from __future__ import annotations

import numpy as np

from core.face.arkit import BLINK_LEFT, BLINK_RIGHT, INDEX
from core.face.canonical import canonical_face
from core.face.retarget import SOLVED, arkit_basis, reproduce, solve_arkit, solve_per_frame


def test_solve_recovers_weights_that_made_the_motion() -> None:
    basis = arkit_basis(canonical_face())
    t = 40
    truth = np.zeros((t, 52), np.float32)
    truth[:, INDEX["jawOpen"]] = 0.5 + 0.4 * np.sin(np.linspace(0, 3, t))
    truth[:, INDEX["mouthSmileRight"]] = np.linspace(0, 0.8, t)
    offsets = reproduce(truth, basis)
    blink = np.zeros((t, 2), np.float32)
    blink[10, 0], blink[11, 1] = 1.0, 0.7
    w = solve_arkit(offsets, blink, basis)
    assert w.shape == (t, 52) and w.dtype == np.float32 and w.min() >= 0 and w.max() <= 1
    err = np.linalg.norm(reproduce(w, basis) - offsets, axis=2).mean()
    assert err < 3e-4  # metres
    assert np.corrcoef(w[:, INDEX["jawOpen"]], truth[:, INDEX["jawOpen"]])[0, 1] > 0.95
    assert w[10, BLINK_RIGHT] == 1.0 and w[11, BLINK_LEFT] == np.float32(0.7)  # blink columns: right, left
    assert w[:, INDEX["tongueOut"]].max() == 0 and w[:, INDEX["eyeLookInLeft"]].max() == 0


def test_temporal_solve_is_close_to_the_exact_per_frame_solve() -> None:
    basis = arkit_basis(canonical_face())
    rng = np.random.default_rng(1)
    truth = np.zeros((12, 52), np.float32)
    truth[:, list(SOLVED)] = rng.uniform(0, 0.3, len(SOLVED)) + np.linspace(0, 0.1, 12)[:, None]  # smooth in time
    offsets = reproduce(truth, basis) + rng.normal(0, 1e-4, (12, 468, 3)).astype(np.float32)  # noisy landmarks
    fast = np.linalg.norm(
        reproduce(solve_arkit(offsets, np.zeros((12, 2), np.float32), basis), basis) - offsets, axis=2
    )
    exact = np.linalg.norm(reproduce(solve_per_frame(offsets, basis), basis) - offsets, axis=2)
    assert fast.mean() < exact.mean() + 2.5e-4  # the ridge costs a little on a dense 45-shape mix (GRID: 0.02 mm)


def test_empty_clip() -> None:
    basis = arkit_basis(canonical_face())
    assert solve_arkit(np.zeros((0, 468, 3), np.float32), np.zeros((0, 2), np.float32), basis).shape == (0, 52)
