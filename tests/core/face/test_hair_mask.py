"""Finding the photo's hair: on the head, never the face or the neck; a lit shaven scalp is not hair."""

from __future__ import annotations

import numpy as np

from tests.core.face.test_head import photo_and_landmarks


def test_the_demo_photo_s_hair_is_found_and_is_not_skin() -> None:
    from core.face.hair_mask import segment_hair

    rgb, lm, _, _ = photo_and_landmarks()
    hair = segment_hair(rgb, lm)
    assert not hair.bald and hair.mask.sum() > 500
    top = lm[10]
    above = hair.mask[: int(top[1]), int(lm[234, 0]) : int(lm[454, 0])]
    assert above.mean() > 0.2  # over the forehead
    face = np.zeros_like(hair.mask)
    face[int(lm[1, 1]) - 5 : int(lm[1, 1]) + 5, int(lm[1, 0]) - 5 : int(lm[1, 0]) + 5] = True
    assert not (hair.mask & face).any()  # not the nose


def test_a_lit_shaven_scalp_is_not_hair_but_blond_and_white_hair_are() -> None:
    from core.face.hair_mask import lit_scalp

    skin = np.array([50.0, 18.0, 43.0])  # chroma 47
    assert lit_scalp(np.array([69.0, 5.0, 46.0]), skin, skin)  # the skin's own colour, brightened
    assert not lit_scalp(np.array([64.0, 11.0, 20.0]), np.array([38.0, 10.0, 12.0]), skin)  # white hair
    assert not lit_scalp(np.array([62.0, 2.0, 27.0]), skin, skin)  # blond, paler than the skin
    assert not lit_scalp(np.array([30.0, 3.0, 12.0]), skin, skin)  # dark hair


def test_hair_is_never_the_face_below_the_brows_nor_the_neck() -> None:
    from core.face.hair_mask import segment_hair

    rgb, lm, _, _ = photo_and_landmarks()
    hair = segment_hair(rgb, lm)
    h, w = hair.mask.shape
    cheek_l, cheek_r, lip = int(lm[234, 0]), int(lm[454, 0]), int(lm[17, 1])
    assert not hair.mask[lip:, cheek_l:cheek_r].any()  # the neck and collar under the chin
    oval = np.zeros((h, w), np.uint8)
    import cv2

    from core.face.head import BROWS, FACE_OVAL

    cv2.fillPoly(oval, [np.round(lm[list(FACE_OVAL), :2]).astype(np.int32)], (1,))
    below_brows = np.arange(h)[:, None] > lm[list(BROWS), 1].mean()
    assert not (hair.mask & oval.astype(bool) & below_brows).any()
