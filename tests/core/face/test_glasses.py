"""Glasses: found by the bar across the nose's bridge, kept out of the skin texture."""

from __future__ import annotations

import numpy as np

from tests.core.face.test_head import photo_and_landmarks


def with_glasses(rgb: np.ndarray, lm: np.ndarray) -> np.ndarray:
    import cv2

    out = rgb.copy()
    w = float(np.linalg.norm(lm[33, :2] - lm[133, :2]))
    thick = max(2, int(0.08 * w))
    for eye in ((33, 133), (362, 263)):
        c = lm[list(eye), :2].mean(0)
        cv2.ellipse(out, (int(c[0]), int(c[1])), (int(0.8 * w), int(0.55 * w)), 0, 0, 360, (25, 20, 20), thick)
    a, b = lm[133, :2], lm[362, :2]
    y = int(lm[168, 1])
    cv2.line(out, (int(a[0]), y), (int(b[0]), y), (25, 20, 20), thick)
    return out


def test_a_bridge_bar_is_glasses_and_a_bare_face_is_not() -> None:
    from core.face.glasses import RIDGE, bridge_ridge, has_glasses

    rgb, lm, _, _ = photo_and_landmarks()
    assert not has_glasses(rgb, lm) and bridge_ridge(rgb, lm) < RIDGE
    assert has_glasses(with_glasses(rgb, lm), lm)


def test_the_frames_stay_out_of_the_skin_texture() -> None:
    from core.face.glasses import frame_mask
    from core.face.head import textured_head

    rgb, lm, frame, rest = photo_and_landmarks()
    worn = with_glasses(rgb, lm)
    drawn = np.abs(worn.astype(int) - rgb.astype(int)).sum(-1) > 60
    mask = frame_mask(worn, lm)
    assert (mask & drawn).sum() > 0.8 * drawn.sum()  # the frames are found …
    eyes_and_cheeks = mask.sum() - (mask & drawn).sum()
    assert eyes_and_cheeks < 3.0 * drawn.sum()  # … and not much else (the mask is grown a pixel round them)
    bare = textured_head(rgb, lm, frame, rest)
    head = textured_head(worn, lm, frame, rest)
    assert any("glasses" in n for n in head.notes) and not any("glasses" in n for n in bare.notes)
    skin_bare, skin_worn = bare.materials[0].texture, head.materials[0].texture
    assert skin_bare is not None and skin_worn is not None
    dark_bare = (skin_bare[:, :1024].astype(int).sum(-1) < 150).sum()
    dark_worn = (skin_worn[:, :1024].astype(int).sum(-1) < 150).sum()
    assert dark_worn < dark_bare + 2000  # no frames painted on the face tile
