"""The photo's hair: where it is, its colour, how far down it falls — or that the head is bald.

MediaPipe's selfie segmentation (its model ships in the mediapipe wheel) separates the person from the background;
inside the person, the hair is what is unlike the skin and like the hair seen in a band above the forehead and
beside the temples (its median CIELAB colour and spread) — above the brows, whatever is neither skin nor forehead
nor background — connected to that band. Never the face below the brows (nor the rim of its oval, where the jaw's
shadow is as dark as hair), never the neck under the chin, no lower than the shoulders beside the face. A band that
is mostly skin-coloured, or whose colour is the forehead's, or the skin's own brightened (a shaven scalp in the
light), means a bald head: no hair is made.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

#: Below this share of hair-coloured pixels in the band over the forehead, the head is taken as bald.
BALD_SHARE = 0.3
#: Farther than this (CIELAB dE) from the skin tone may be hair; nearer than ``max(HAIR_DE, 3 × spread)`` to the
#: hair's median colour is hair.
SKIN_DE, HAIR_DE = 16.0, 22.0
#: Hair nearer than this (dE) to the forehead's own colour is taken for a lit scalp (a shaven head).
FOREHEAD_DE = 14.0

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
    if np.linalg.norm(colour - forehead) < FOREHEAD_DE or lit_scalp(colour, forehead, skin):
        return HairMask(empty, skin, True, float(top), float(top), 0.0, body, empty)
    spread = float(np.median(np.linalg.norm(lab[hairy] - colour, axis=-1))) * 1.48
    like_hair = np.linalg.norm(lab - colour, axis=-1) < float(np.clip(3.0 * spread, HAIR_DE, 30.0))
    # not the face below the brows (a fringe over the forehead is kept; the oval's own rim, where the jaw's shadow
    # is as dark as hair, neither), not the neck under the chin, not lower than the shoulders beside it
    face_rim = cv2.dilate(oval, np.ones((3, 3), np.uint8), iterations=max(1, int(0.03 * face_h))).astype(bool)
    neck = (yy > lm[17, 1]) & (xx > left) & (xx < right)
    allowed = body & ~(face_rim & (yy > brow_y - 0.06 * face_h)) & ~neck & (yy < chin + 0.9 * face_h)
    # above the brows, on the person, what is neither skin, nor forehead, nor background is hair, however far
    # from its median (lit grey and white strands are)
    crown = (yy < brow_y - 0.06 * face_h) & (np.linalg.norm(lab - forehead, axis=-1) > SKIN_DE)
    cand = (allowed & (like_hair | crown) & unlike_skin).astype(np.uint8)
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


#: A bare scalp in the light is the skin's own colour brightened: at least this much lighter than the forehead …
LIT_SCALP_L = 8.0
#: … and as saturated as the skin (blond, grey and white hair lighter than the skin is paler) and saturated at all.
LIT_SCALP_CHROMA, LIT_SCALP_MIN_CHROMA = 0.9, 35.0


def lit_scalp(colour: np.ndarray, forehead: np.ndarray, skin: np.ndarray) -> bool:
    """Whether what was taken for hair over the forehead (CIELAB ``colour``) is a shaven or bald scalp catching the
    light: lighter than the ``forehead`` and as saturated as the ``skin``, as only skin is."""
    chroma, skin_chroma = float(np.hypot(colour[1], colour[2])), float(np.hypot(skin[1], skin[2]))
    return bool(colour[0] > forehead[0] + LIT_SCALP_L and chroma >= LIT_SCALP_CHROMA * skin_chroma
                and chroma >= LIT_SCALP_MIN_CHROMA)


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
