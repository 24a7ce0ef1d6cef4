"""The inside of an open mouth, as a person sees it: its mean colour (CIELAB) and how much of it is teeth.

The inner-lip ring (``regions.LIPS_INNER``, 20 points in order round the opening) bounds the inside; the 20 % most
open frames of a clip are the ones compared (a closed mouth has no inside to see). Teeth are the inside's bright,
nearly colourless pixels: L* ≥ 60 and chroma ≤ 25 (a dark red cavity and tongue sit at L* 20–45, chroma 20–40).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.metrics.regions import LIPS_INNER

TEETH_L, TEETH_CHROMA = 60.0, 25.0
#: Fewer pixels than this inside the ring: no inside to measure.
MIN_PIXELS = 12


def teeth_pixels(lab: np.ndarray) -> np.ndarray:
    """Which of the pixels (N, 3) CIELAB are teeth: bright and nearly colourless."""
    return (lab[:, 0] >= TEETH_L) & (np.hypot(lab[:, 1], lab[:, 2]) <= TEETH_CHROMA)


@dataclass
class Inside:
    """One frame's mouth inside: the sum of its pixels' Lab values, their count and how many are teeth."""

    lab_sum: np.ndarray  # (3,)
    pixels: int
    teeth: int


def inside_mask(shape: tuple[int, ...], landmarks: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels inside the inner lip ring of 468 image-space ``landmarks`` (the lip line left out)."""
    mask = np.zeros(shape[:2], np.uint8)
    ring = np.round(np.asarray(landmarks)[list(LIPS_INNER), :2] * 4).astype(np.int32)
    cv2.fillPoly(mask, [ring], (1,), lineType=cv2.LINE_8, shift=2)
    return cv2.erode(mask, np.ones((3, 3), np.uint8)).astype(bool)  # the lip line itself is not inside


def inside(rgb: np.ndarray, landmarks: np.ndarray) -> Inside | None:
    """The inside of the mouth in an RGB uint8 image with its 468 image-space landmarks; None when it is shut."""
    sel = inside_mask(rgb.shape, landmarks)
    if int(sel.sum()) < MIN_PIXELS:
        return None
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[sel]
    teeth = teeth_pixels(lab)
    return Inside(lab.sum(0).astype(np.float64), int(sel.sum()), int(teeth.sum()))


def most_open(aperture: np.ndarray, share: float = 0.2) -> np.ndarray:
    """Indices of the ``share`` most open frames (finite apertures only), at least one."""
    ok = np.where(np.isfinite(aperture))[0]
    k = max(1, int(round(share * len(ok))))
    return ok[np.argsort(aperture[ok])[::-1][:k]]


@dataclass
class MouthColour:
    """A clip's open-mouth inside: mean Lab colour and teeth share over the frames measured."""

    lab: np.ndarray  # (3,)
    teeth_share: float
    frames: int


def summarise(insides: list[Inside | None]) -> MouthColour | None:
    got = [i for i in insides if i is not None]
    if not got:
        return None
    pixels = sum(i.pixels for i in got)
    lab = np.sum([i.lab_sum for i in got], axis=0) / pixels
    return MouthColour(lab, sum(i.teeth for i in got) / pixels, len(got))


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    """CIE76 colour difference between two Lab colours."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))
