"""The photo's hair on the head: segmented, shaped, textured, carried by the exports; bald heads stay bald."""

from __future__ import annotations

import numpy as np

from tests.core.face.test_head import photo_and_landmarks


def test_the_demo_photo_s_hair_is_found_and_is_not_skin() -> None:
    from core.face.hair import segment_hair

    rgb, lm, _, _ = photo_and_landmarks()
    hair = segment_hair(rgb, lm)
    assert not hair.bald and hair.mask.sum() > 500
    top = lm[10]
    above = hair.mask[: int(top[1]), int(lm[234, 0]) : int(lm[454, 0])]
    assert above.mean() > 0.2  # over the forehead
    face = np.zeros_like(hair.mask)
    face[int(lm[1, 1]) - 5 : int(lm[1, 1]) + 5, int(lm[1, 0]) - 5 : int(lm[1, 0]) + 5] = True
    assert not (hair.mask & face).any()  # not the nose


def test_a_head_painted_bald_gets_no_hair() -> None:
    import cv2

    from core.face.hair import segment_hair
    from core.face.head import textured_head

    rgb, lm, frame, rest = photo_and_landmarks()
    bald = rgb.copy()
    skin = np.median(rgb[int(lm[1, 1]) - 4 : int(lm[1, 1]) + 4, int(lm[50, 0]) - 4 : int(lm[50, 0]) + 4]
                     .reshape(-1, 3), axis=0)
    face_h = lm[152, 1] - lm[10, 1]
    centre = (int(lm[10, 0]), int(lm[10, 1] + 0.1 * face_h))
    cv2.ellipse(bald, centre, (int(0.62 * face_h), int(0.62 * face_h)), 0, 180, 360, skin.tolist(), -1)
    assert segment_hair(bald, lm).bald
    head = textured_head(bald, lm, frame, rest)
    assert "hair" not in [m.name for m in head.materials] and any("bald" in n for n in head.notes)


def test_hair_sits_over_the_scalp_follows_the_brows_and_exports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from addon.glb import read_head
    from core.face.arkit import ARKIT_NAMES
    from core.face.gltf import write_glb
    from core.face.head import textured_head
    from core.face.ict import load_head

    rgb, lm, frame, rest = photo_and_landmarks()
    head = textured_head(rgb, lm, frame, rest)
    hair_index = [m.name for m in head.materials].index("hair")
    hair_v = np.unique(head.triangles[head.material == hair_index])
    assert hair_v.min() >= len(load_head().neutral)  # its own vertices, after the ICT head's
    skin = head.vertices[: len(load_head().neutral)]
    top = skin[:, 1].max()
    assert head.vertices[hair_v, 1].max() > top  # over the crown
    brow = ARKIT_NAMES.index("browInnerUp")
    assert np.abs(head.shape_keys[brow][hair_v]).max() > 1e-3  # a raised brow lifts the fringe
    blink = ARKIT_NAMES.index("eyeBlinkLeft")
    assert np.abs(head.shape_keys[blink][hair_v]).max() == 0.0
    tex = head.materials[hair_index].texture
    assert tex is not None and tex.ndim == 3 and tex.std() > 2  # strands, not a flat fill
    mesh = read_head(write_glb(head, tmp_path / "h.glb").read_bytes())
    assert mesh.key_names == list(ARKIT_NAMES) and "hair" in [m.name for m in mesh.materials]
    assert len(mesh.vertices) == len(head.vertices)
