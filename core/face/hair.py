"""Hair for the head, from the photo's hair (``core.face.hair_mask``): a shell over the scalp, textured with the
photo's hair.

Shape: a shell on a grid of directions around the skull's centre (azimuth × elevation). Each direction's scalp
radius is the skin's there (its outermost over the ears, so an ear never pokes through); the shell sits a few
millimetres out, more on the crown (and as high as the photo's hair rises above the scalp), meeting the scalp at its
edge. Where the photo sees a direction, the hair mask says whether it is hair; where it cannot (the back), the hair
continues down to the nape, and behind the ears no lower than the ears' tops, so a short cut keeps its ears. Long
hair (lower than the nape beside the face) gets a curtain below the shell, as wide at each height as the photo's
hair and hanging in front of the ears only where the photo shows it. The hair is one piece (specks off it are
dropped) with a smooth outline (the grid's staircase relaxed).

Texture: the photo's hair where the photo sees it, the hair's median colour with strand streaks elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.face.geometry import Similarity
from core.face.hair_mask import HairMask

#: The grid of directions: azimuth columns (0 = the face's front) and elevation rows (degrees).
AZIMUTHS, ELEVATIONS = 160, 72
LOWEST_DEG, HIGHEST_DEG = -45.0, 89.0
#: Shell thickness (metres): over the scalp, and added on the crown; at its very edge the hair meets the scalp.
THICKNESS, CROWN, EDGE = 0.006, 0.010, 0.0015
#: Over how many grid cells from the hair's edge the shell grows to its full volume.
TAPER_CELLS = 10.0
CURTAIN_ROWS = 16
#: Azimuth (degrees from the face's front) past which a direction is behind the ears.
BEHIND_EARS_DEG = 100.0
TEXTURE = (256, 512)  # rows, columns


@dataclass
class HairPiece:
    """The hair as its own mesh, in the head's canonical frame (metres), with one UV per vertex."""

    vertices: np.ndarray  # (N, 3) float32
    triangles: np.ndarray  # (M, 3) int32
    uv: np.ndarray  # (N, 2) float32, origin bottom-left
    texture: np.ndarray  # (rows, cols, 3) uint8
    colour: tuple[float, float, float]  # the hair's median colour, sRGB 0–1
    anchor: np.ndarray  # (N,) int: the head vertex each hair vertex follows (its shape keys)


def _scalp_radius(v: np.ndarray, centre: np.ndarray, az: np.ndarray, el: np.ndarray) -> np.ndarray:
    """(ELEVATIONS, AZIMUTHS) outermost radius of the skin vertices ``v`` in each direction bin around ``centre``
    (over the ears, their rim: hair that covers them lies over them), smoothed across bins."""
    d = v - centre
    r = np.linalg.norm(d, axis=1)
    a = np.arctan2(d[:, 0], d[:, 2])
    e = np.arcsin(np.clip(d[:, 1] / np.maximum(r, 1e-9), -1, 1))
    ai = np.clip(np.round((a - az[0]) / (az[1] - az[0])).astype(int), 0, len(az) - 1)
    ei = np.round((e - el[0]) / (el[1] - el[0])).astype(int)
    ok = (ei >= 0) & (ei < len(el))
    out = np.full((len(el), len(az)), np.nan)
    key = ei[ok] * len(az) + ai[ok]
    order = np.argsort(key)
    keys, starts = np.unique(key[order], return_index=True)
    for k, group in zip(keys, np.split(r[ok][order], starts[1:]), strict=True):
        out.flat[k] = group.max()
    holes = np.isnan(out)
    if holes.any():
        from scipy.ndimage import distance_transform_edt

        _, (iy, ix) = distance_transform_edt(holes, return_indices=True)
        out = out[iy, ix]
    wrapped = np.concatenate([out[:, -8:], out, out[:, :8]], axis=1)
    return cv2.GaussianBlur(wrapped, (0, 0), 1.5)[:, 8:-8]


def hair_piece(
    rest: np.ndarray,
    skin_vertices: np.ndarray,
    to_image: Similarity,
    rgb: np.ndarray,
    hair: HairMask,
    points: np.ndarray,
) -> HairPiece | None:
    """The hair shell for a head.

    Args:
        rest: the head's vertices (V, 3) at rest, metres.
        skin_vertices: indices of its skin (face and scalp) vertices.
        to_image: canonical frame → photo pixels (as the texture bake placed the head).
        rgb: the photo; ``hair`` its hair mask.
        points: the head's 468 MediaPipe points at rest (V-independent landmarks, metres).
    """
    if hair.bald:
        return None
    skin = rest[skin_vertices].astype(np.float64)
    brow_y, chin_y = float(points[[105, 334], 1].mean()), float(points[152, 1])
    upper = skin[skin[:, 1] > brow_y]
    lo, hi = upper.min(0), upper.max(0)
    centre = np.array([0.0, brow_y, (lo[2] + hi[2]) / 2])
    az = np.linspace(-np.pi, np.pi, AZIMUTHS + 1)  # the last column repeats the first (the texture's seam)
    el = np.radians(np.linspace(LOWEST_DEG, HIGHEST_DEG, ELEVATIONS))
    radius = _scalp_radius(skin, centre, az[:-1], el)  # an ear never pokes through the hair
    radius = np.concatenate([radius, radius[:, :1]], axis=1)
    A, E = np.meshgrid(az, el)
    dirs = np.stack([np.cos(E) * np.sin(A), np.sin(E), np.cos(E) * np.cos(A)], -1)
    scale = float(to_image.scale[0])
    rot = to_image.rotation[0]
    scalp = centre + dirs * radius[..., None]
    # how high the photo's hair rises over the scalp's top, as volume on the crown
    crown_top = to_image.apply(np.array([[[0.0, hi[1], centre[2]]]]))[0, 0, 1]
    lift = float(np.clip((crown_top - hair.top_y) / scale, 0.0, 0.04))
    thick = THICKNESS + (CROWN + lift) * np.clip(np.sin(E), 0, 1) ** 1.5
    long_hair = False
    # what the photo says, where it sees the direction
    facing = -(dirs @ rot.T)[..., 2]
    img = to_image.apply((centre + dirs * (radius + thick)[..., None]).reshape(1, -1, 3))[0].reshape(*E.shape, 3)
    hgt, wid = hair.mask.shape
    xi = np.clip(np.round(img[..., 0]).astype(int), 0, wid - 1)
    yi = np.clip(np.round(img[..., 1]).astype(int), 0, hgt - 1)
    inside = (img[..., 0] >= 0) & (img[..., 0] < wid) & (img[..., 1] >= 0) & (img[..., 1] < hgt)
    seen_mask = cv2.dilate(hair.mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float64)
    evidence = np.where(inside, seen_mask[yi, xi], 1.0)  # cut off by the photo's edge: taken as hair
    # the photo knows only where it shows the person: beyond the silhouette (the fitted head is not the person's
    # exact outline) it says nothing, and the prior decides
    on_person = np.where(inside, hair.person[yi, xi], 1.0).astype(np.float64)
    # above the brows, whatever on the person is not skin is hair (the mask's colour rule misses lit or grey strands)
    not_skin = np.where(inside, ~hair.skin_like[yi, xi], False) & (scalp[..., 1] > brow_y + 0.01)
    evidence = np.maximum(evidence, on_person * not_skin)
    # where it cannot see: down to the nape at the back, above the ears' tops behind them
    lowest_canon = chin_y + (to_image.apply(np.array([[[0.0, chin_y, centre[2]]]]))[0, 0, 1] - hair.lowest_y) / scale
    nape_y = float(points[2, 1])  # the bottom of the nose: the nape's height
    behind = np.clip((np.abs(A) - np.pi / 2) / (np.pi / 2), 0, 1)
    ear_top = brow_y
    limit = ear_top + (nape_y - ear_top) * behind
    if lowest_canon < nape_y - 0.02:  # long: the sides are covered down to the skull's lower rows
        long_hair = True
        limit = np.minimum(limit, nape_y)
    prior = (scalp[..., 1] >= limit).astype(np.float64)
    if long_hair:  # behind the ears long hair covers the head down to the nape
        prior = np.maximum(prior, (np.abs(A) > np.radians(BEHIND_EARS_DEG)) & (scalp[..., 1] >= nape_y - 0.01))
    # the photo decides where it sees a direction squarely; at a grazing view it can only add hair — except, for
    # short hair, in front of the ears below their tops, where a grazing look lands beside the face, not on the cheek
    trust = np.clip((facing - 0.2) / 0.3, 0, 1)
    beside_face = (scalp[..., 1] < ear_top) & (np.abs(A) < np.radians(BEHIND_EARS_DEG)) & (not long_hair)
    grazing = np.where(beside_face, 0.0, evidence)
    cover = trust * evidence + (1 - trust) * np.maximum(grazing, prior)
    cover = on_person * cover + (1 - on_person) * np.maximum(grazing, prior)
    cover = cv2.GaussianBlur(cover, (0, 0), 1.0)
    cover[-1] = 1.0  # the very top
    # the hair's width beside the cheeks, from the photo's silhouette, over the head's own
    cheek = (
        np.abs(hair.side_px)
        - np.abs(to_image.apply(points[[234, 454]][None])[0][:, 0] - to_image.apply(points[[1]][None])[0][0, 0]).mean()
    ) / scale
    side_extra = float(np.clip(cheek, 0.0, 0.06))
    if long_hair:  # long hair over the ears: a thicker shell at the sides
        side = np.clip(np.abs(np.sin(A)), 0, 1) * np.clip(1 - np.abs(np.sin(E)) * 1.5, 0, 1)
        thick = thick + (0.018 + 0.5 * side_extra) * side
    # the volume grows away from the hair's edge: at a hairline the shell lies on the scalp, as hair does
    from scipy.ndimage import distance_transform_edt

    taper = np.clip(distance_transform_edt(cover > 0.5) / TAPER_CELLS, 0.0, 1.0)
    thick = EDGE + (thick - EDGE) * taper**0.7
    shell = centre + dirs * (radius + thick)[..., None]
    if long_hair:  # below its widest point, long hair falls straight instead of following the skull inwards
        flat = np.hypot(shell[..., 0] - centre[0], shell[..., 2] - centre[2])
        widest = np.maximum.accumulate(flat[::-1], axis=0)[::-1]  # the widest ring at or above each row
        hang = (np.abs(A) > np.radians(95)) & (E < 0)
        grow = np.where(hang, widest / np.maximum(flat, 1e-6), 1.0)
        shell[..., 0] = centre[0] + (shell[..., 0] - centre[0]) * grow
        shell[..., 2] = centre[2] + (shell[..., 2] - centre[2]) * grow
    grid = [shell]
    covered = [cover > 0.5]
    seen = trust * evidence
    if long_hair:
        # the curtain: down from the shell's ring at the nape's height, as wide as the photo's hair at each height
        k0 = int(np.argmin(np.abs(np.median(scalp[:, np.abs(az) > np.radians(120), 1], axis=1) - nape_y)))
        curtain, hangs, shows = _curtain(shell[k0], centre, az, lowest_canon, hair, to_image)
        grid = [curtain[::-1], shell[k0:]]
        covered = [hangs[::-1], covered[0][k0:]]
        seen = np.concatenate([shows[::-1], seen[k0:]])
    pos = np.concatenate(grid, 0)
    cov = attached(np.concatenate(covered, 0))
    rows, cols = cov.shape
    idx = np.arange(rows * cols).reshape(rows, cols)
    quad = cov[:-1, :-1].astype(int) + cov[1:, :-1] + cov[:-1, 1:] + cov[1:, 1:] >= 3
    r0, c0 = np.nonzero(quad)
    a, b, c, d = idx[r0, c0], idx[r0, c0 + 1], idx[r0 + 1, c0 + 1], idx[r0 + 1, c0]
    tris = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    if len(tris) == 0:
        return None
    # the grid's cells make a staircase of the hair's edge: its outline is relaxed across the grid, and each
    # vertex takes the shell's position and texture coordinates where it now lies
    grid_rc = smooth_outline(tris, rows, cols)
    flat = _bilinear(pos, grid_rc)
    n = np.cross(flat[tris[:, 1]] - flat[tris[:, 0]], flat[tris[:, 2]] - flat[tris[:, 0]])
    outward = flat[tris].mean(1) - centre
    if float(np.sum(n * outward)) < 0:
        tris = tris[:, ::-1]
    used = np.unique(tris)
    remap = np.full(len(flat), -1)
    remap[used] = np.arange(len(used))
    uv_r, uv_c = grid_rc[used, 0], grid_rc[used, 1]
    uv = np.stack([uv_c / (cols - 1), 1.0 - uv_r / (rows - 1)], 1).astype(np.float32)
    texture = _texture(rgb, hair, pos, to_image, seen, rows, cols)
    from scipy.spatial import cKDTree

    _, anchor = cKDTree(skin).query(flat[used])
    colour = cv2.cvtColor(hair.lab.astype(np.float32).reshape(1, 1, 3), cv2.COLOR_LAB2RGB).reshape(3)
    return HairPiece(
        flat[used].astype(np.float32),
        remap[tris].astype(np.int32),
        uv,
        texture,
        (float(colour[0]), float(colour[1]), float(colour[2])),
        skin_vertices[anchor],
    )


def _silhouette(mask: np.ndarray, middle: float) -> tuple[np.ndarray, np.ndarray]:
    """Per image row, how far the hair reaches out from the column ``middle`` on the left and on the right (pixels;
    NaN where a row has no hair on that side)."""
    h, w = mask.shape
    cols = np.arange(w, dtype=np.float64)
    left = np.where(mask & (cols < middle)[None], middle - cols[None], 0.0).max(1)
    right = np.where(mask & (cols > middle)[None], cols[None] - middle, 0.0).max(1)
    return np.where(left > 0, left, np.nan), np.where(right > 0, right, np.nan)


def _curtain(base: np.ndarray, centre: np.ndarray, az: np.ndarray, lowest: float, hair: HairMask,
             to_image: Similarity) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Long hair below the shell: (CURTAIN_ROWS, columns, 3) positions from just under the ring ``base`` down to
    the height ``lowest``; whether each vertex hangs there (behind the ears always, in front of them where the
    photo shows hair); and how much of it the photo shows (its texture is the photo's there).

    Each row is the ring scaled about the head's axis, on the left and right apart, so that it reaches as far out
    as the photo's hair does at that height (the hair's silhouette), and a little deeper as it widens.
    """
    scale = float(to_image.scale[0])
    drop = np.linspace(0, 1, CURTAIN_ROWS + 1)[1:]
    ys = base[:, 1][None] + (lowest - base[:, 1])[None] * drop[:, None]  # (rows, cols)
    axis = to_image.apply(np.stack([np.full(CURTAIN_ROWS, centre[0]), ys.mean(1),
                                    np.full(CURTAIN_ROWS, centre[2])], 1)[None])[0]  # the head's axis in the photo
    left_px, right_px = _silhouette(hair.mask, float(axis[:, 0].mean()))
    hgt, wid = hair.mask.shape
    rows_px = np.clip(np.round(axis[:, 1]).astype(int), 0, hgt - 1)
    off = base[:, 0] - centre[0]
    half = {-1: max(float(-off.min()), 1e-3), 1: max(float(off.max()), 1e-3)}  # the ring's own half-widths
    out = np.empty((CURTAIN_ROWS, len(az), 3))
    ease = np.clip(drop / 0.35, 0, 1) ** 2 * (3 - 2 * np.clip(drop / 0.35, 0, 1))
    for sign, reach in ((-1, left_px), (1, right_px)):
        want = _carried(np.clip(reach[rows_px] / scale / half[sign], 0.9, 1.6))
        want = 1.0 + (want - 1.0) * ease  # from the shell's own ring, without a step
        side = (np.sign(off) == sign) | (off == 0)
        s = want[:, None] * np.ones(side.sum())[None]
        out[:, side, 0] = centre[0] + off[side][None] * s
        out[:, side, 2] = centre[2] + (base[side, 2] - centre[2])[None] * (1 + 0.35 * (s - 1))
    out[..., 1] = ys
    img = to_image.apply(out.reshape(1, -1, 3))[0].reshape(CURTAIN_ROWS, len(az), 3)
    xi = np.clip(np.round(img[..., 0]).astype(int), 0, wid - 1)
    yi = np.clip(np.round(img[..., 1]).astype(int), 0, hgt - 1)
    inside = (img[..., 0] >= 0) & (img[..., 0] < wid) & (img[..., 1] >= 0) & (img[..., 1] < hgt)
    grow = max(3, int(0.02 * hgt))
    near = cv2.dilate(hair.mask.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=grow).astype(bool)
    on_hair = np.where(inside, near[yi, xi], True)  # below the photo's edge: the hair goes on
    behind = np.abs(az)[None] > np.radians(BEHIND_EARS_DEG)
    hangs = behind | on_hair
    shows = (on_hair & ~behind & inside).astype(np.float64)
    return out, hangs, shows


def _carried(x: np.ndarray) -> np.ndarray:
    """Rows without a value (NaN) take the nearest row's above them (or below, at the top), then a smoothing down
    the rows (a Gaussian of two rows), so the hair's width changes without terraces."""
    x = x.copy()
    ok = np.isfinite(x)
    if not ok.any():
        return np.ones_like(x)
    first = int(np.argmax(ok))
    x[:first] = x[first]
    for i in range(first + 1, len(x)):
        if not np.isfinite(x[i]):
            x[i] = x[i - 1]
    k = np.exp(-0.5 * (np.arange(-4, 5) / 2.0) ** 2)
    return np.convolve(np.pad(x, 4, mode="edge"), k / k.sum(), mode="valid")


def attached(cover: np.ndarray) -> np.ndarray:
    """``cover`` (rows, columns; the last row the crown, the first and last columns one azimuth) without the
    islands that do not reach the crown: hair is one piece, and a speck of the photo's mask on a cheek is not."""
    from scipy.ndimage import label

    labels, n = label(cover)
    if n == 0:
        return cover
    parent = np.arange(n + 1)

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for a, b in zip(labels[:, 0], labels[:, -1], strict=True):  # the seam joins the pieces on either side
        if a and b:
            parent[root(int(a))] = root(int(b))
    roots = np.array([root(i) for i in range(n + 1)])
    crown = {int(roots[v]) for v in np.unique(labels[-1]) if v}
    return cover & np.isin(roots[labels], list(crown)) & (labels > 0)


def smooth_outline(tris: np.ndarray, rows: int, cols: int, iterations: int = 10) -> np.ndarray:
    """(rows·cols, 2) float grid positions (row, column) of a grid mesh's vertices with its outline relaxed.

    The mesh's vertex k is the grid's cell corner (k // cols, k % cols); ``tris`` are its triangles. Its outline
    (edges of one triangle) is smoothed by Taubin's shrink-free two-step filter along the outline itself, so the
    steps of whole cells become straight runs and curves; inner vertices, the corners of the outline (a vertex
    with other than two outline neighbours) and the columns of the azimuth seam stay where they are.
    """
    rc = np.stack(np.divmod(np.arange(rows * cols), cols), 1).astype(np.float64)
    edges = np.sort(np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]]), axis=1)
    uniq, count = np.unique(edges, axis=0, return_counts=True)
    border = uniq[count == 1]
    seam = np.isin(rc[border, 1], (0, cols - 1)).all(1)  # the seam's two copies of one column: not an edge
    border = border[~seam]
    if not len(border):
        return rc
    degree = np.bincount(border.ravel(), minlength=rows * cols)
    fixed = np.isin(rc[:, 1], (0, cols - 1))
    movable = (degree == 2) & ~fixed
    ends = np.concatenate([border, border[:, ::-1]])
    for _ in range(iterations):
        for lam in (0.5, -0.53):
            total = np.zeros_like(rc)
            np.add.at(total, ends[:, 0], rc[ends[:, 1]])
            mean = total / np.maximum(degree, 1)[:, None]
            rc[movable] += lam * (mean[movable] - rc[movable])
    rc[:, 0] = np.clip(rc[:, 0], 0, rows - 1)
    rc[:, 1] = np.clip(rc[:, 1], 0, cols - 1)
    return rc


def _bilinear(grid: np.ndarray, rc: np.ndarray) -> np.ndarray:
    """(N, C) values of ``grid`` (rows, cols, C) at fractional grid positions ``rc`` (N, 2)."""
    rows, cols = grid.shape[:2]
    r0 = np.clip(np.floor(rc[:, 0]).astype(int), 0, rows - 2)
    c0 = np.clip(np.floor(rc[:, 1]).astype(int), 0, cols - 2)
    fr, fc = (rc[:, 0] - r0)[:, None], (rc[:, 1] - c0)[:, None]
    return np.asarray(
        grid[r0, c0] * (1 - fr) * (1 - fc) + grid[r0, c0 + 1] * (1 - fr) * fc
        + grid[r0 + 1, c0] * fr * (1 - fc) + grid[r0 + 1, c0 + 1] * fr * fc
    )


def _texture(
    rgb: np.ndarray,
    hair: HairMask,
    pos: np.ndarray,
    to_image: Similarity,
    seen: np.ndarray,
    rows: int,
    cols: int,
) -> np.ndarray:
    """The hair texture: the photo's hair where the photo sees it (``seen``, 0–1 per grid vertex), the hair colour
    with strands elsewhere."""
    th, tw = TEXTURE
    img = to_image.apply(pos.reshape(1, -1, 3))[0].reshape(rows, cols, 3)
    mx = cv2.resize(img[..., 0].astype(np.float32), (tw, th), interpolation=cv2.INTER_LINEAR)
    my = cv2.resize(img[..., 1].astype(np.float32), (tw, th), interpolation=cv2.INTER_LINEAR)
    photo = cv2.remap(rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    core_mask = cv2.erode(hair.mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
    in_hair = cv2.remap(core_mask, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    weight = cv2.resize(seen.astype(np.float32), (tw, th), interpolation=cv2.INTER_LINEAR) * in_hair
    weight = np.asarray(cv2.GaussianBlur(np.clip(weight, 0, 1), (0, 0), 2.0), np.float32)[..., None]
    # strands: streaks along the rows' direction (down the head), varying across it
    rng = np.random.default_rng(0)
    streak = cv2.resize(rng.normal(0, 1, (8, tw)).astype(np.float32), (tw, th), interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.normal(0, 1, (th, tw)).astype(np.float32), (0, 0), sigmaX=0.6, sigmaY=6.0)
    base_lab = np.broadcast_to(hair.lab.astype(np.float32), (th, tw, 3)).copy()
    base_lab[..., 0] = np.clip(base_lab[..., 0] * (1 + 0.06 * streak + 0.12 * fine), 0, 100)
    base = cv2.cvtColor(base_lab, cv2.COLOR_LAB2RGB) * 255.0
    tex = weight * photo + (1 - weight) * base
    return np.clip(tex, 0, 255).astype(np.uint8)
