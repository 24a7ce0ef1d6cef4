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


def _opened(rgb: np.ndarray, lm: np.ndarray, fill: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The photo with its inner lip ring opened and the opening painted ``fill``."""
    from core.face.mouth import lip_regions

    shown, lm2 = rgb.copy(), lm.copy()
    lower = [14, 87, 178, 88, 95, 317, 402, 318, 324]
    lm2[lower, 1] += 0.06 * (lm[152, 1] - lm[10, 1])
    shown[lip_regions(rgb.shape, lm2)[0]] = fill
    return shown, lm2


def test_a_face_videos_open_mouth_gives_the_inside_its_own_colour() -> None:
    from core.face.mouth import colour_model, image_lab, lip_regions, mouth_colours, seen_mouth_lab, to_lab

    rgb, lm, _, _ = photo_and_landmarks()
    photo_only = mouth_colours(rgb, lm)
    assert not photo_only.inside_seen
    dark = _opened(rgb, lm, (40, 12, 14))  # a deep, dark red cavity
    seen, no_teeth = seen_mouth_lab([dark])
    assert seen is not None and no_teeth is None
    want = image_lab(dark[0])[lip_regions(dark[0].shape, dark[1])[0]].mean(0)
    assert np.linalg.norm(seen - want) < 0.5
    # several views: their pixels pooled (a second, lighter one pulls the mean up)
    pooled, _ = seen_mouth_lab([dark, _opened(rgb, lm, (90, 40, 40))])
    assert pooled is not None and pooled[0] > seen[0] + 5
    m = mouth_colours(rgb, lm, open_views=[dark])
    assert m.inside_seen and m.lips == photo_only.lips
    # the material is the colour seen plus the renderer's shading offset: darker than the lips' prediction here
    got = to_lab(np.asarray(m.inside))[0]
    assert np.linalg.norm(got - (seen + np.asarray(colour_model()["render_offset"]))) < 1.5
    assert got[0] < to_lab(np.asarray(photo_only.inside))[0][0] - 5
    # an open view of teeth only shows no inside: the lips' prediction stays, and the teeth are the view's
    teeth_only = mouth_colours(rgb, lm, open_views=[_opened(rgb, lm, (235, 228, 205))])
    assert not teeth_only.inside_seen and teeth_only.inside == photo_only.inside and teeth_only.teeth_from_photo


def test_an_open_view_with_no_mouth_open_changes_nothing() -> None:
    from core.face.mouth import mouth_colours

    rgb, lm, _, _ = photo_and_landmarks()
    assert mouth_colours(rgb, lm, open_views=[(rgb, lm)]).inside == mouth_colours(rgb, lm).inside
