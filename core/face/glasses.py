"""Glasses in the photo: found by their bridge, kept out of the skin texture.

A pair of glasses crosses the nose's bridge between the eyes as a thin bar darker than the skin above and below
it; the nose's own shading there is gradual. ``bridge_ridge`` measures that bar: the deepest dip of the column's
brightness profile below both neighbours a sixth of an eye's width away, relative to the column's mean. On the 18
faces of GRID's 13 speakers and the five dev-av clips (frame 20), the one pair of glasses (GRID s5) reads 0.21 and
every other face 0.05 or less, so ``RIDGE`` is 0.1 — one positive example: a rimless or pale frame may go unseen.
The frames' pixels (around the eyes and across the bridge, unlike the skin) are kept out of the skin bake, which
fills them from the skin round them; no frame object is made.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.face.head import LEFT_EYE, RIGHT_EYE

RIDGE = 0.1


def eye_width(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[33, :2] - landmarks[133, :2]))


def bridge_ridge(rgb: np.ndarray, landmarks: np.ndarray) -> float:
    """How clearly a thin dark bar crosses the nose's bridge (0 for none; glasses ≳ 0.1)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lm = np.asarray(landmarks, np.float64)
    w = eye_width(lm)
    half = max(1, int(0.12 * w))
    x = int(round(lm[168, 0]))
    y0, y1 = int(lm[168, 1] - 0.6 * w), int(lm[6, 1] + 0.3 * w)
    h_img, w_img = grey.shape
    if x - half < 0 or x + half >= w_img or y0 < 0 or y1 > h_img:
        return 0.0
    profile = grey[y0:y1, x - half : x + half + 1].mean(1)
    d = max(2, int(0.15 * w))
    if len(profile) <= 2 * d:
        return 0.0
    mid = profile[d:-d]
    dips = np.minimum(profile[: -2 * d], profile[2 * d :]) - mid
    return float(dips.max() / (profile.mean() + 1.0))


def has_glasses(rgb: np.ndarray, landmarks: np.ndarray) -> bool:
    return bridge_ridge(rgb, landmarks) > RIDGE


def frame_mask(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(H, W) bool: the glasses' pixels — round the eyes and across the bridge, darker or other than the skin."""
    lm = np.asarray(landmarks, np.float64)
    h, w_img = rgb.shape[:2]
    w = eye_width(lm)
    region = np.zeros((h, w_img), np.uint8)
    eyes = np.zeros((h, w_img), np.uint8)
    for eye in (RIGHT_EYE, LEFT_EYE):
        pts = lm[list(eye), :2]
        c = pts.mean(0)
        cv2.ellipse(region, (int(c[0]), int(c[1])), (int(1.0 * w), int(0.75 * w)), 0, 0, 360, (1,), -1)
        cv2.fillPoly(eyes, [np.round(pts).astype(np.int32)], (1,))
    b = lm[168, :2]
    cv2.rectangle(region, (int(b[0] - 0.4 * w), int(b[1] - 0.4 * w)), (int(b[0] + 0.4 * w), int(b[1] + 0.4 * w)),
                  (1,), -1)
    eyes = np.asarray(cv2.dilate(eyes, np.ones((3, 3), np.uint8), iterations=max(1, int(0.1 * w))), np.uint8)
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    skin = np.median(lab[cv2.dilate(region, np.ones((3, 3), np.uint8)).astype(bool) & ~eyes.astype(bool)], axis=0)
    other = (np.linalg.norm(lab - skin, axis=-1) > 12.0) | (lab[..., 0] < skin[0] - 10.0)
    frames = region.astype(bool) & ~eyes.astype(bool) & other
    return np.asarray(cv2.dilate(frames.astype(np.uint8), np.ones((3, 3), np.uint8)), bool)
