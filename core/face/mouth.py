"""The inside of the person's mouth: its colours from the photo's lips (and teeth, where the photo shows them).

A photo rarely shows the inside of the mouth, but it always shows the lips, and the inside follows them: the same
blood under thinner skin, in the mouth's own shadow. ``core/assets/mouth_colours.json`` holds a per-channel linear
map in CIELAB from the lips' median colour to the open mouth's non-teeth inside (tongue, gums, the cavity) and the
mean teeth colour, fitted by ``scripts/fit_mouth_colours.py`` on GRID's rest-model speakers (never the held-out
speakers ``bench_render`` scores, never dev-av), and a Lab offset fitted on the same clips re-rendered through the
warp, so that the rendered open mouth — the ICT head's tongue, gums and cavity in their shadow — has the real one's
mean colour. Where the photo (or a face video's most open frame) shows teeth —
bright, nearly colourless pixels inside the inner lip — their own colour is used instead of the fitted one.

A face video shows more than the lips: its most open mouths (``open_views``: its 20 % most open frames, as the fit
measured the real inside) show the person's own inside — how dark their cavity is in that light, how red the
tongue — which the lips only hint at (two talkers with the same lips can have open mouths 15 L* apart). Where they
show enough of it, that colour is used in place of the lips' prediction (the renderer's offset still added: the
head's cavity is shaded as in the fit).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from core.metrics.mouth import inside_mask, teeth_pixels
from core.metrics.regions import LIPS_INNER

ASSET = Path(__file__).resolve().parents[1] / "assets" / "mouth_colours.json"
#: The outer lip ring in order round the mouth (the lower lip left to right, then the upper lip back).
LIPS_OUTER_RING = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
#: Fewer teeth pixels than this in the photo: its teeth are not shown, the fitted mean is used.
MIN_TEETH_PIXELS = 30
#: Fewer non-teeth pixels than this inside a face video's open mouths: too little seen, the lips' prediction is used.
MIN_INSIDE_PIXELS = 60


@dataclass
class MouthColours:
    """sRGB 0–1 colours of the mouth's inside, for the head's materials."""

    lips: tuple[float, float, float]
    inside: tuple[float, float, float]  # the lit tongue, gums and cavity
    teeth: tuple[float, float, float]
    teeth_from_photo: bool
    inside_seen: bool = False  # the inside's colour is the face video's own, not predicted from the lips


def to_lab(rgb01: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.asarray(rgb01, np.float32).reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3)


def to_rgb(lab: np.ndarray) -> tuple[float, float, float]:
    out = cv2.cvtColor(np.asarray(lab, np.float32).reshape(1, 1, 3), cv2.COLOR_LAB2RGB).reshape(3)
    c = np.clip(out, 0.0, 1.0)
    return (float(c[0]), float(c[1]), float(c[2]))


def lip_regions(shape: tuple[int, ...], landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inside, lips) boolean masks of an image ``shape`` with its 468 image-space landmarks: the opening inside the
    inner lip ring and the lips' red between the rings (their edges left out)."""
    h, w = shape[:2]
    inner = np.zeros((h, w), np.uint8)
    outer = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inner, [np.round(landmarks[list(LIPS_INNER), :2] * 4).astype(np.int32)], (1,), shift=2)
    cv2.fillPoly(outer, [np.round(landmarks[list(LIPS_OUTER_RING), :2] * 4).astype(np.int32)], (1,), shift=2)
    kernel = np.ones((3, 3), np.uint8)
    ring = (outer.astype(bool) & ~cv2.dilate(inner, kernel).astype(bool)).astype(np.uint8)
    lips = cv2.erode(ring, kernel).astype(bool)
    return inside_mask(shape, landmarks), lips


def image_lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def lip_lab(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """The lips' median CIELAB colour, or None when too few lip pixels are seen."""
    _, lips = lip_regions(rgb.shape, landmarks)
    if lips.sum() < 20:
        return None
    return np.median(image_lab(rgb)[lips], axis=0)


def teeth_lab(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """The mean colour of the teeth the image shows inside the inner lip, or None when it shows too few."""
    inside, _ = lip_regions(rgb.shape, landmarks)
    lab = image_lab(rgb)[inside]
    teeth = teeth_pixels(lab)
    if teeth.sum() < MIN_TEETH_PIXELS:
        return None
    return lit_teeth(lab[teeth])


def seen_mouth_lab(views: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(the mean colour of the inside, teeth left out, or None where too little of it is seen; the teeth's lit
    colour, or None where too few are seen) over open mouths ``views`` — (RGB, image landmarks) each — by
    ``core.metrics.mouth``'s rule, as the fit measured the real inside."""
    lab = open_lab(views)
    is_teeth = teeth_pixels(lab)
    rest, teeth = lab[~is_teeth], lab[is_teeth]
    return (rest.mean(0) if len(rest) >= MIN_INSIDE_PIXELS else None,
            lit_teeth(teeth) if len(teeth) >= MIN_TEETH_PIXELS else None)


def open_lab(views: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(N, 3) float64 CIELAB: every pixel inside the inner lip of open mouths ``views`` — (RGB, image landmarks)
    each — pooled (``core.metrics.mouth``'s ring)."""
    labs = [image_lab(rgb)[inside_mask(rgb.shape, lm)] for rgb, lm in views]
    return np.concatenate(labs).astype(np.float64) if labs else np.zeros((0, 3))


def lit_teeth(lab: np.ndarray) -> np.ndarray:
    """The teeth's lit colour from their pixels (N, 3) Lab: the 90th percentile of L*, the median a*, b* (the
    mean would sit on the teeth rule's own threshold; the renderer shades the lit colour back down)."""
    return np.array([np.percentile(lab[:, 0], 90), np.median(lab[:, 1]), np.median(lab[:, 2])])


@lru_cache(maxsize=1)
def colour_model() -> dict[str, list[float]]:
    return dict(json.loads(ASSET.read_text()))


def inside_lab(lips: np.ndarray, seen: np.ndarray | None = None) -> np.ndarray:
    """The inside's material colour for lips of CIELAB colour ``lips``: the fitted map to the real open mouth's
    non-teeth inside (or the inside ``seen`` in a face video, where there is one), plus the correction that makes
    the renderer's open mouth (its geometry and shadow) come out at the real one's colour (``render_offset``,
    fitted through the renderer)."""
    m = colour_model()
    real = (np.asarray(m["inside_offset"]) + np.asarray(m["inside_gain"]) * np.asarray(lips, np.float64)
            if seen is None else np.asarray(seen, np.float64))
    return real + np.asarray(m.get("render_offset", (0.0, 0.0, 0.0)), np.float64)


def mouth_colours(rgb: np.ndarray, landmarks: np.ndarray,
                  open_views: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> MouthColours:
    """The person's mouth colours from a photo (uint8 RGB) and its 468 image-space landmarks, and from
    ``open_views`` — (RGB, landmarks) of a face video's most open mouths — where there are: their inside's own
    colour, and their teeth where the photo shows none."""
    m = colour_model()
    lips = lip_lab(rgb, landmarks)
    if lips is None:
        lips = np.asarray(m["lips_mean"])
    teeth = teeth_lab(rgb, landmarks)
    seen, seen_teeth = seen_mouth_lab(open_views)
    teeth = teeth if teeth is not None else seen_teeth
    return MouthColours(
        to_rgb(lips),
        to_rgb(inside_lab(lips, seen)),
        to_rgb(teeth if teeth is not None else np.asarray(m["teeth_mean"])),
        teeth is not None,
        seen is not None,
    )
