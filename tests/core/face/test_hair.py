"""The photo's hair on the head: segmented, shaped, textured, carried by the exports; bald heads stay bald."""

from __future__ import annotations

import numpy as np

from tests.core.face.test_head import photo_and_landmarks


def test_a_head_painted_bald_gets_no_hair() -> None:
    import cv2

    from core.face.hair_mask import segment_hair
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


def test_the_outline_of_a_grid_mesh_loses_its_staircase_but_keeps_the_seam() -> None:
    from core.face.hair import smooth_outline

    rows, cols = 12, 20
    idx = np.arange(rows * cols).reshape(rows, cols)
    covered = np.zeros((rows, cols), bool)
    for c in range(cols):  # a staircase edge: one row lower every two columns
        covered[c // 2 :, c] = True
    quad = covered[:-1, :-1].astype(int) + covered[1:, :-1] + covered[:-1, 1:] + covered[1:, 1:] >= 3
    r0, c0 = np.nonzero(quad)
    a, b, c, d = idx[r0, c0], idx[r0, c0 + 1], idx[r0 + 1, c0 + 1], idx[r0 + 1, c0]
    tris = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    rc = smooth_outline(tris, rows, cols)
    grid = np.stack(np.divmod(np.arange(rows * cols), cols), 1).astype(float)
    edges = np.sort(np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]]), axis=1)
    uniq, count = np.unique(edges, axis=0, return_counts=True)
    outline = np.unique(uniq[count == 1])
    stairs = outline[(grid[outline, 0] > 0) & (grid[outline, 0] < rows - 1) & (grid[outline, 1] > 1)
                     & (grid[outline, 1] < cols - 2)]  # the staircase, off the grid's own border

    def off_line(p: np.ndarray) -> float:  # the largest distance from the straight line fitted through them
        fit = np.polyfit(p[:, 1], p[:, 0], 1)
        return float(np.abs(np.polyval(fit, p[:, 1]) - p[:, 0]).max())

    assert len(stairs) > 10
    assert off_line(rc[stairs]) < 0.5 * off_line(grid[stairs])  # steps of whole cells become a slope
    seam = np.isin(grid[:, 1], (0, cols - 1))
    assert np.array_equal(rc[seam], grid[seam])  # the two copies of one azimuth stay together
    inner = np.setdiff1d(np.unique(tris), outline)
    assert np.array_equal(rc[inner], grid[inner])  # only the outline moves


def test_hair_islands_that_do_not_reach_the_crown_are_dropped() -> None:
    from core.face.hair import attached

    cover = np.zeros((10, 16), bool)
    cover[6:, :] = True  # the cap, reaching the crown (the last row)
    cover[1:3, 5:7] = True  # a speck on a cheek
    cover[3:6, 0] = cover[3:6, -1] = True  # hair down at the back, across the seam
    kept = attached(cover)
    assert kept[6:].all() and kept[3:6, 0].all() and kept[3:6, -1].all()
    assert not kept[1:3, 5:7].any()


def test_long_hair_hangs_beside_the_face_as_wide_as_the_photo_shows_it() -> None:
    import cv2

    from core.face.head import textured_head
    from core.face.ict import load_head

    rgb, lm, frame, rest = photo_and_landmarks()
    long = rgb.copy()
    colour = tuple(int(c) for c in np.median(rgb[int(lm[10, 1]) - 25 : int(lm[10, 1]) - 15,
                                                 int(lm[10, 0]) - 5 : int(lm[10, 0]) + 5].reshape(-1, 3), axis=0))
    face_h = lm[152, 1] - lm[10, 1]
    for side in (234, 454):  # hair falling from the temples past the chin, beside the face
        x = int(lm[side, 0])
        x0, x1 = (x - int(0.35 * face_h), x - 2) if side == 234 else (x + 2, x + int(0.35 * face_h))
        cv2.rectangle(long, (x0, int(lm[10, 1])), (x1, int(lm[152, 1] + 0.5 * face_h)), colour, -1)
    head = textured_head(long, lm, frame, rest)
    hair = head.material == [m.name for m in head.materials].index("hair")
    v = head.vertices[np.unique(head.triangles[hair])]
    chin = load_head().at_points(head.vertices[: len(load_head().neutral)].astype(np.float64))[152]
    below = v[v[:, 1] < chin[1]]
    assert len(below) > 50  # it falls past the chin …
    assert (below[:, 0] < chin[0] - 0.05).any() and (below[:, 0] > chin[0] + 0.05).any()  # … on both sides
