"""Lip range: a hedged prediction is brought to a real talker's range, closures close, articulation scales."""

from __future__ import annotations

import numpy as np

from core.cli import DEFAULT_PCA
from core.face.canonical import canonical_face
from core.face.neutral import shipped_neutral
from core.models.articulation import RangeSettings, opening, shape_range, speech_frames, unit_open_dir
from core.models.pca import LandmarkPCA


def _setup() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    comps = LandmarkPCA.load(DEFAULT_PCA).components
    rest = shipped_neutral().estimate(canonical_face(), canonical_face())[0]
    d = unit_open_dir(rest, comps, shipped_neutral().opening, 20)
    # a hedged prediction: openings of at most 0.03 that never quite close (0.004 at the "closures")
    o = 0.004 + 0.026 * np.clip(np.sin(np.linspace(0, 20, 200)), 0, None)
    return comps, rest, d, o[:, None] * d[None]


def test_unit_direction_opens_by_one_unit() -> None:
    comps, rest, d, _ = _setup()
    lm = rest[None] + (0.05 * d @ comps).reshape(1, -1, 3)
    assert abs(float(opening(lm, rest)[0]) - 0.05) < 0.005


def test_range_is_brought_to_real_talkers_and_closures_close() -> None:
    comps, rest, d, q = _setup()
    speech = np.ones(len(q), bool)
    out = shape_range(q, rest, comps, d, speech, RangeSettings(open_p90=0.06, floor=0.2))
    o = opening(rest[None] + (out @ comps).reshape(len(out), -1, 3), rest)
    assert abs(float(np.percentile(o, 90)) - 0.06) < 0.01  # the real talkers' range
    assert float(np.abs(o[np.argsort(q @ d)[:20]]).max()) < 0.004  # the hedged closures now close


def test_articulation_scales_and_zero_stills_the_mouth() -> None:
    comps, rest, d, q = _setup()
    speech = np.ones(len(q), bool)
    settings = RangeSettings(open_p90=0.06)

    def p90(a: float) -> float:
        out = shape_range(q, rest, comps, d, speech, settings, articulation=a)
        return float(np.percentile(opening(rest[None] + (out @ comps).reshape(len(out), -1, 3), rest), 90))

    assert abs(p90(0.0)) < 0.003
    assert abs(p90(2.0) / p90(1.0) - 2.0) < 0.15


def test_speech_frames_ignore_silence() -> None:
    e = np.concatenate([np.full(50, -20.0), np.full(50, -2.0)])
    s = speech_frames(e)
    assert not s[:50].any() and s[50:].all()


def test_mouth_classes_close_bilabials_and_open_vowels() -> None:
    from core.data.phones import BILABIAL, N_VISEMES, OPEN

    comps, rest, d, q = _setup()
    speech = np.ones(len(q), bool)
    vis = np.zeros((len(q), N_VISEMES), np.float32)
    wide = int(np.argmax(q @ d))  # the widest frame, heard as /m/
    vis[wide, BILABIAL] = 1.0
    shut = int(np.argmin(q @ d))  # the most closed frame, heard as /a/
    vis[shut, OPEN] = 1.0
    settings = RangeSettings(open_p90=0.06, level=1.5, open_share=0.8)
    out = shape_range(q, rest, comps, d, speech, settings, visemes=vis)
    o = opening(rest[None] + (out @ comps).reshape(len(out), -1, 3), rest)
    assert abs(float(o[wide])) < 0.003
    assert float(o[shut]) >= 0.8 * 1.5 * 0.06 - 0.005
