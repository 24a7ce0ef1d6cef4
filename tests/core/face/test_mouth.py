"""The person's mouth colours: from the lips, and from the teeth where the photo shows them."""

from __future__ import annotations

import numpy as np

from tests.core.face.test_head import photo_and_landmarks


def test_the_inside_is_darker_than_the_lips_and_red() -> None:
    from core.face.mouth import mouth_colours, to_lab

    rgb, lm, _, _ = photo_and_landmarks()
    m = mouth_colours(rgb, lm)
    lips, inside, teeth = (to_lab(np.asarray(c))[0] for c in (m.lips, m.inside, m.teeth))
    assert inside[0] < lips[0] - 5 and inside[1] > 5  # darker than the lips, still red
    assert teeth[0] > inside[0] + 15 and np.hypot(teeth[1], teeth[2]) < 30


def test_teeth_the_photo_shows_give_their_own_colour() -> None:
    import cv2

    from core.face.mouth import lip_regions, mouth_colours, teeth_lab
    from core.metrics.regions import LIPS_INNER

    rgb, lm, _, _ = photo_and_landmarks()
    assert teeth_lab(rgb, lm) is None or mouth_colours(rgb, lm).teeth_from_photo
    shown = rgb.copy()
    lm2 = lm.copy()
    lower = [14, 87, 178, 88, 95, 317, 402, 318, 324]  # open the inner ring: drop the lower inner lip
    lm2[lower, 1] += 0.06 * (lm[152, 1] - lm[10, 1])
    inside, _ = lip_regions(rgb.shape, lm2)
    shown[inside] = (235, 228, 205)  # ivory teeth
    got = teeth_lab(shown, lm2)
    assert got is not None and mouth_colours(shown, lm2).teeth_from_photo
    want = cv2.cvtColor(np.array([[[235, 228, 205]]], np.float32) / 255, cv2.COLOR_RGB2LAB)[0, 0]
    assert np.linalg.norm(got - want) < 3
    assert len(LIPS_INNER) == 20
