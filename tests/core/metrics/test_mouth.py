"""The open mouth's inside: colour and teeth, on drawn mouths whose answer is known."""

from __future__ import annotations

import numpy as np

from core.metrics.mouth import delta_e, inside, most_open, summarise
from core.metrics.regions import LIPS_INNER


def _mouth(open_px: float) -> tuple[np.ndarray, np.ndarray]:
    """A 200² image: skin, a dark red ellipse of an inside whose top half is white teeth; landmarks round it."""
    img = np.full((200, 200, 3), (200, 160, 140), np.uint8)
    lm = np.zeros((468, 3), np.float32)
    ang = np.linspace(np.pi, 3 * np.pi, len(LIPS_INNER), endpoint=False)  # lower lip left → right, then upper
    lm[list(LIPS_INNER), 0] = 100 + 40 * np.cos(ang)
    lm[list(LIPS_INNER), 1] = 100 - open_px * np.sin(ang)
    yy, xx = np.mgrid[:200, :200]
    inner = ((xx - 100) / 40) ** 2 + ((yy - 100) / max(open_px, 1e-3)) ** 2 <= 1
    img[inner] = (90, 20, 25)
    img[inner & (yy < 100)] = (235, 230, 215)
    return img, lm


def test_the_inside_is_measured_where_the_mouth_is_open() -> None:
    img, lm = _mouth(20)
    got = inside(img, lm)
    assert got is not None and got.pixels > 1500
    assert 0.4 < got.teeth / got.pixels < 0.6  # half of it is teeth
    assert inside(*_mouth(0.5)) is None  # shut: nothing inside to see
    colour = summarise([got, None])
    assert colour is not None and colour.frames == 1 and 0.4 < colour.teeth_share < 0.6
    dark = img.copy()
    dark[img.sum(2) > 600] = (90, 20, 25)  # the same mouth without teeth
    no_teeth = summarise([inside(dark, lm)])
    assert no_teeth is not None and no_teeth.teeth_share < 0.01
    assert delta_e(colour.lab, no_teeth.lab) > 20 and delta_e(colour.lab, colour.lab) == 0.0


def test_most_open_frames() -> None:
    ap = np.array([0.1, np.nan, 0.5, 0.3, 0.9, 0.0, 0.2, 0.4, 0.8, 0.6, 0.7])
    assert list(most_open(ap)) == [4, 8]
    assert list(most_open(np.array([0.2]))) == [0]
