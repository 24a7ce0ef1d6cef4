"""The rest estimator: an open mouth or a smile never becomes the rest; identity stays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import CheckpointError
from core.face.canonical import canonical_face
from core.face.geometry import lip_gap, mouth_aperture
from core.face.neutral import NeutralConfig, NeutralModel, clip_rest, fit_neutral, rest_of, shipped_neutral
from core.metrics.sync import LIPS_CLOSED


def _toy(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A canonical face, an orthonormal basis whose first direction opens the lips, and that opening motion."""
    can = canonical_face().astype(np.float64)
    open_disp = np.zeros((468, 3))
    open_disp[14, 1] = -0.01  # lower inner lip down
    open_disp[[17, 152, 14], 1] -= 0.005  # chin and lower lip with the jaw
    basis = np.linalg.qr(np.concatenate([open_disp.reshape(-1, 1), rng.normal(size=(1404, 5))], axis=1))[0].T
    return can, basis.astype(np.float32), open_disp


def test_fitted_estimator_closes_an_open_mouth_and_keeps_identity(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    can, basis, open_disp = _toy(rng)
    clips, rests = [], {}
    for s in range(6):
        ident = can + rng.normal(size=(468, 3)) * 2e-4
        amount = np.clip(np.sin(np.linspace(0, 12, 80)), 0, None)[:, None, None]  # mouth opening and closing
        lm = (ident[None] + amount * open_disp[None]).astype(np.float32)
        clips.append(lm)
        rests[f"s{s}"] = [clip_rest(lm)]
    model = fit_neutral(clips, rests, basis, can, NeutralConfig(n_modes=6))
    assert model.gain[0] > 0.9  # identities never differ along the opening: it is all expression
    frame = clips[0][np.argmax(mouth_aperture(clips[0]))]
    assert mouth_aperture(frame[None])[0] > 0.05
    rest = rest_of(frame, can, model)
    assert lip_gap(rest[None])[0] <= model.closed_gap + 1e-3
    assert np.abs(rest - clip_rest(clips[0])).max() < 2e-3  # the same face, closed
    model.save(tmp_path / "n.safetensors")
    again = NeutralModel.load(tmp_path / "n.safetensors")
    np.testing.assert_allclose(rest_of(frame, can, again), rest, atol=1e-6)
    track = rest_of(clips[0], can, again)  # a video: the median of its frames' rests
    assert track.shape == (468, 3) and lip_gap(track[None])[0] <= model.closed_gap + 1e-3


def test_shipped_estimator_loads_and_closes_lips_of_an_open_frame() -> None:
    m = shipped_neutral()
    can = canonical_face()
    rng = np.random.default_rng(1)
    person = can + rng.normal(size=can.shape).astype(np.float32) * 5e-4  # someone else, at rest
    opened = person + 0.12 * m.opening.reshape(468, 3)  # the jaw dropped as real speakers drop it
    assert mouth_aperture(opened[None])[0] > 0.1
    rest = rest_of(opened, can, m)
    assert mouth_aperture(rest[None])[0] < LIPS_CLOSED
    assert set(m.metrics) >= {"s4", "gain"}


def test_bad_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "n.safetensors"
    bad.write_bytes(b"\x80\x04 pickle")
    with pytest.raises(CheckpointError):
        NeutralModel.load(bad)
