"""Hair for the head, from the photo: segmented, shaped into a shell over the scalp, textured with the photo's hair.

Segmentation: MediaPipe's selfie segmentation (its model ships in the mediapipe wheel) separates the person from the
background; inside the person, the hair is what is unlike the skin and like the hair seen in a band above the
forehead and beside the temples (its median CIELAB colour and spread), connected to that band and no lower than
a little below the chin beside the face. A band that is mostly skin-coloured means a bald (or shaven) head: no
hair is made.

Shape: a shell on a grid of directions around the skull's centre (azimuth × elevation). Each direction's scalp
radius is the median radius of the head's skin vertices there; the shell sits a few millimetres out, more on the
crown (and as high as the photo's hair rises above the scalp). Where the photo sees a direction, the hair mask
says whether it is hair; where it cannot (the back), the hair continues down to the nape, and behind the ears
no lower than the ears' tops, so a short cut keeps its ears. Long hair (lower than the nape beside the face) gets
a curtain falling from the shell's lower edge at the sides and back to the hair's measured length.

Texture: the photo's hair where the photo sees it, the hair's median colour with strand streaks elsewhere.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from core.face.geometry import Similarity

#: The grid of directions: azimuth columns (0 = the face's front) and elevation rows (degrees).
AZIMUTHS, ELEVATIONS = 160, 72
LOWEST_DEG, HIGHEST_DEG = -45.0, 89.0
#: Shell thickness (metres): at the hair's edge, and added on the crown.
THICKNESS, CROWN = 0.006, 0.010
#: Over how many grid cells from the hair's edge the shell grows to its full volume.
TAPER_CELLS = 10.0
#: Below this share of hair-coloured pixels in the band over the forehead, the head is taken as bald.
BALD_SHARE = 0.3
#: Farther than this (CIELAB dE) from the skin tone may be hair; nearer than ``max(HAIR_DE, 3 × spread)`` to the
#: hair's median colour is hair.
SKIN_DE, HAIR_DE = 16.0, 22.0
#: Hair nearer than this (dE) to the forehead's own colour is taken for a lit scalp (a shaven head).
FOREHEAD_DE = 14.0
CURTAIN_ROWS = 10
TEXTURE = (256, 512)  # rows, columns

_lock = threading.Lock()
_segmenter: list[object] = []
_calls = [0]


def person_mask(rgb: np.ndarray) -> np.ndarray:
    """(H, W) float32 0–1: how surely each pixel is the person (MediaPipe selfie segmentation, general model)."""
    from core.face import tracker

    with _lock:
        # the graph prints start-up lines from its own threads during its first frames: muted as the tracker's are
        with tracker._native_stderr_muted(tracker.QUIET_NATIVE and _calls[0] < tracker.NOISY_FRAMES):
            if not _segmenter:
                import mediapipe as mp

                _segmenter.append(mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0))
            out = _segmenter[0].process(np.ascontiguousarray(rgb))  # type: ignore[attr-defined]
            _calls[0] += 1
    return np.asarray(out.segmentation_mask, np.float32)


@dataclass
class HairMask:
    """The photo's hair: a mask, its colour and how far down it falls."""

    mask: np.ndarray  # (H, W) bool
    lab: np.ndarray  # (3,) median CIELAB of the hair
    bald: bool
    lowest_y: float  # the lowest hair pixel row beside the face (image pixels)
    top_y: float  # the highest hair pixel row over the face
    side_px: float  # how far the hair reaches out from the nose beside the cheeks (pixels, the wider side)
    person: np.ndarray  # (H, W) bool: the person (not the background)
    skin_like: np.ndarray  # (H, W) bool: near the skin's or the forehead's colour


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


#: MediaPipe points on the cheeks and the nose's bridge, where the skin tone is sampled.
SKIN_POINTS = (50, 280, 6, 101, 330)


def skin_lab(lab: np.ndarray, lm: np.ndarray, face_h: float, points: tuple[int, ...] = SKIN_POINTS) -> np.ndarray:
    """The median CIELAB colour of small discs round MediaPipe ``points`` (by default the cheeks and nose)."""
    disc = np.zeros(lab.shape[:2], np.uint8)
    for i in points:
        cv2.circle(disc, (int(round(lm[i, 0])), int(round(lm[i, 1]))), max(2, int(0.05 * face_h)), (1,), -1)
    px = lab[disc.astype(bool)]
    return np.median(px, axis=0) if len(px) else np.array([60.0, 15.0, 20.0])


def segment_hair(rgb: np.ndarray, landmarks: np.ndarray, person: np.ndarray | None = None) -> HairMask:
    """The hair in a photo (uint8 RGB) with its 468 image-space landmarks."""
    from core.face.head import BROWS, FACE_OVAL

    h, w = rgb.shape[:2]
    lm = np.asarray(landmarks, np.float64)
    person_p = person_mask(rgb) if person is None else person
    body = person_p > 0.5
    lab = _lab(rgb)
    top, chin = lm[10, 1], lm[152, 1]
    face_h = max(chin - top, 8.0)
    skin = skin_lab(lab, lm, face_h)
    unlike_skin = np.linalg.norm(lab - skin, axis=-1) > SKIN_DE
    left, right = lm[234, 0], lm[454, 0]
    oval = np.zeros((h, w), np.uint8)
    cv2.fillPoly(oval, [np.round(lm[list(FACE_OVAL), :2]).astype(np.int32)], (1,))
    brow_y = lm[list(BROWS), 1].mean()
    yy, xx = np.mgrid[0:h, 0:w]
    # the band over the forehead (and beside the temples) where hair, if any, must be
    band = body & (yy < top + 0.08 * face_h) & (yy > top - 0.35 * face_h) & (xx > left) & (xx < right)
    band &= ~oval.astype(bool) | (yy < top + 0.02 * face_h)
    temples = (
        body
        & ~oval.astype(bool)
        & (yy > top)
        & (yy < brow_y)
        & (((xx > left - 0.12 * face_h) & (xx < left)) | ((xx < right + 0.12 * face_h) & (xx > right)))
    )
    # the segmentation's edge spills onto the background: hair is neither skin nor the background around the head
    ring = cv2.dilate(body.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=max(2, int(0.1 * face_h)))
    around = ring.astype(bool) & ~body & (yy < chin)
    background = np.median(lab[around], axis=0) if around.sum() > 20 else None
    core_body = cv2.erode(
        body.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=max(1, int(0.03 * face_h))
    ).astype(bool)
    if background is not None:
        unlike_skin &= np.linalg.norm(lab - background, axis=-1) > SKIN_DE
    band &= core_body
    temples &= core_body
    seeds = band | temples
    n_seed = int(seeds.sum())
    hairy = seeds & unlike_skin
    empty = np.zeros((h, w), bool)
    if n_seed < 20 or hairy.sum() < BALD_SHARE * n_seed:
        return HairMask(empty, skin, True, float(top), float(top), 0.0, body, empty)
    colour = np.median(lab[hairy], axis=0)
    forehead = skin_lab(lab, lm, face_h, points=(151, 9, 108, 337))
    if np.linalg.norm(colour - forehead) < FOREHEAD_DE:  # what is over the forehead looks like the forehead: a scalp
        return HairMask(empty, skin, True, float(top), float(top), 0.0, body, empty)
    spread = float(np.median(np.linalg.norm(lab[hairy] - colour, axis=-1))) * 1.48
    like_hair = np.linalg.norm(lab - colour, axis=-1) < float(np.clip(3.0 * spread, HAIR_DE, 30.0))
    # not the face below the brows (a fringe over the forehead is kept), not lower than the shoulders beside it
    face_core = cv2.erode(oval, np.ones((3, 3), np.uint8), iterations=max(1, int(0.02 * face_h))).astype(bool)
    allowed = body & ~(face_core & (yy > brow_y - 0.06 * face_h)) & (yy < chin + 0.9 * face_h)
    cand = (allowed & like_hair & unlike_skin).astype(np.uint8)
    k = max(5, int(0.04 * face_h) | 1)
    cand = cv2.morphologyEx(cand, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    n, labels = cv2.connectedComponents(cand, connectivity=8)
    keep = np.unique(labels[(cand > 0) & seeds])
    keep = keep[keep > 0]
    mask = np.isin(labels, keep) & (cand > 0)
    if mask.sum() < 0.3 * hairy.sum():
        return HairMask(empty, skin, True, float(top), float(top), 0.0, body, empty)
    lowest = _lowest_beside(mask, lm, face_h, float(brow_y), float(chin))
    over = np.nonzero((mask & (xx > left) & (xx < right)).any(1))[0]
    band_rows = slice(int(max(0, lm[1, 1])), int(min(h, lm[152, 1])))
    cols = np.nonzero(mask[band_rows].any(0))[0]
    side = float(np.max(np.abs(cols - lm[1, 0]))) if len(cols) else 0.0
    skin_like = (np.linalg.norm(lab - skin, axis=-1) < SKIN_DE + 6) | (
        np.linalg.norm(lab - forehead, axis=-1) < SKIN_DE + 6
    )
    return HairMask(mask, colour, False, lowest, float(over.min()) if len(over) else float(top), side, body, skin_like)


def _lowest_beside(mask: np.ndarray, lm: np.ndarray, face_h: float, brow_y: float, chin: float) -> float:
    """How far down the hair falls beside the face: the lowest row, going down from the brows, to which a band just
    outside the cheeks (on either side) is hair in at least a fifth of its width all the way."""
    h, w = mask.shape
    width = max(3, int(0.3 * face_h))
    lowest = brow_y
    for side in (-1, 1):
        edge = lm[234 if side < 0 else 454, 0]
        a, b = (int(edge) - width, int(edge)) if side < 0 else (int(edge), int(edge) + width)
        a, b = max(0, a), min(w, b)
        if b - a < 3:
            continue
        share = mask[:, a:b].mean(1)
        y = int(max(0, brow_y))
        stop = int(min(h, chin + 0.9 * face_h))
        while y < stop and share[y] >= 0.2:
            y += 1
        lowest = max(lowest, float(y))
    return lowest


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
    """(ELEVATIONS, AZIMUTHS) median radius of the skin vertices ``v`` in each direction bin around ``centre``."""
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
        out.flat[k] = np.median(group)
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
    radius = _scalp_radius(skin, centre, az[:-1], el)
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
    if long_hair:
        prior = np.maximum(prior, (np.abs(A) > np.radians(60)) & (scalp[..., 1] >= nape_y - 0.01))
    # the photo decides where it sees a direction squarely; at a grazing view it can only add hair
    trust = np.clip((facing - 0.2) / 0.3, 0, 1)
    cover = trust * evidence + (1 - trust) * np.maximum(evidence, prior)
    cover = on_person * cover + (1 - on_person) * np.maximum(evidence, prior)
    if long_hair:  # hair beside the face, in front of the ears, down to the nape's height
        cover = np.maximum(cover, (np.abs(A) > np.radians(48)) & (scalp[..., 1] >= nape_y - 0.01))
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

    taper = np.clip(distance_transform_edt(cover > 0.5) / TAPER_CELLS, 0.1, 1.0)
    thick = THICKNESS + (thick - THICKNESS) * taper
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
    if long_hair:
        # the curtain: straight down from the shell's ring at the nape's height, at the sides and back, flaring
        k0 = int(np.argmin(np.abs(np.median(scalp[:, np.abs(az) > np.radians(120), 1], axis=1) - nape_y)))
        base = shell[k0]
        drop = np.linspace(0, 1, CURTAIN_ROWS + 1)[1:]
        ys = base[:, 1][None] + (lowest_canon - base[:, 1])[None] * drop[:, None]
        out_dir = base[:, [0, 2]] - centre[[0, 2]]
        out_dir /= np.linalg.norm(out_dir, axis=1, keepdims=True) + 1e-9
        flare = (base[:, 1][None] - ys) * 0.06 + 0.3 * side_extra * drop[:, None]
        curtain = np.empty((CURTAIN_ROWS, AZIMUTHS + 1, 3))
        curtain[..., 0] = base[None, :, 0] + out_dir[None, :, 0] * flare
        curtain[..., 1] = ys
        curtain[..., 2] = base[None, :, 2] + out_dir[None, :, 1] * flare
        beside = np.abs(az) > np.radians(48)
        grid = [curtain[::-1], shell[k0:]]
        covered = [np.repeat(beside[None], CURTAIN_ROWS, 0), covered[0][k0:]]
        trust, evidence = trust[k0:], evidence[k0:]
    pos = np.concatenate(grid, 0)
    cov = np.concatenate(covered, 0)
    rows, cols = cov.shape
    idx = np.arange(rows * cols).reshape(rows, cols)
    quad = cov[:-1, :-1].astype(int) + cov[1:, :-1] + cov[:-1, 1:] + cov[1:, 1:] >= 3
    r0, c0 = np.nonzero(quad)
    a, b, c, d = idx[r0, c0], idx[r0, c0 + 1], idx[r0 + 1, c0 + 1], idx[r0 + 1, c0]
    tris = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    if len(tris) == 0:
        return None
    flat = pos.reshape(-1, 3)
    n = np.cross(flat[tris[:, 1]] - flat[tris[:, 0]], flat[tris[:, 2]] - flat[tris[:, 0]])
    outward = flat[tris].mean(1) - centre
    if float(np.sum(n * outward)) < 0:
        tris = tris[:, ::-1]
    used = np.unique(tris)
    remap = np.full(len(flat), -1)
    remap[used] = np.arange(len(used))
    uv_r, uv_c = np.divmod(used, cols)
    uv = np.stack([uv_c / (cols - 1), 1.0 - uv_r / (rows - 1)], 1).astype(np.float32)
    texture = _texture(rgb, hair, pos, to_image, trust * evidence, rows, cols, len(grid) > 1)
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


def _texture(
    rgb: np.ndarray,
    hair: HairMask,
    pos: np.ndarray,
    to_image: Similarity,
    seen: np.ndarray,
    rows: int,
    cols: int,
    curtain: bool,
) -> np.ndarray:
    """The hair texture: the photo's hair where the photo sees it, the hair colour with strands elsewhere."""
    th, tw = TEXTURE
    img = to_image.apply(pos.reshape(1, -1, 3))[0].reshape(rows, cols, 3)
    mx = cv2.resize(img[..., 0].astype(np.float32), (tw, th), interpolation=cv2.INTER_LINEAR)
    my = cv2.resize(img[..., 1].astype(np.float32), (tw, th), interpolation=cv2.INTER_LINEAR)
    photo = cv2.remap(rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    core_mask = cv2.erode(hair.mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
    in_hair = cv2.remap(core_mask, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    full_seen = np.zeros((rows, cols))
    full_seen[rows - seen.shape[0] :] = seen
    weight = cv2.resize(full_seen.astype(np.float32), (tw, th), interpolation=cv2.INTER_LINEAR) * in_hair
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
