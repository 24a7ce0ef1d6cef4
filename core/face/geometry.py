"""Rigid geometry on landmark sets: similarity alignment, pose ↔ Euler, pose/expression split.

Follows the motion disentangler of Rhythmic Head Motion (Chen et al. 2020, §3.3): the rigid
transform between a frame's landmarks and a canonical face is estimated on points that deform
little when a person talks, so that removing it leaves expression only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

#: MediaPipe face-mesh points that barely move with speech or expression: forehead, nose bridge
#: and dorsum, temples and upper cheekbones, eye corners (27 points, as many as the paper uses).
#: The choice is checked on GRID footage by ``benchmarks/bench_stable_points.py`` (see the PCA model card).
STABLE_POINTS: tuple[int, ...] = (
    10,
    151,
    9,
    8,
    107,
    336,
    108,
    337,
    109,
    338,
    67,
    297,  # forehead, brow ridge
    168,
    6,
    197,
    195,  # nose bridge
    127,
    356,
    234,
    454,
    162,
    389,  # temples, outer face
    33,
    263,
    133,
    362,  # eye corners
    1,  # nose tip (rigid cartilage for speech)
)

#: Nominal camera distance (metres) used to turn a change of image scale into a depth change.
NOMINAL_DISTANCE_M = 0.6

LIP_UPPER_INNER = 13
LIP_LOWER_INNER = 14
EYE_OUTER_R = 33
EYE_OUTER_L = 263


@dataclass
class Similarity:
    """Batched similarity transforms: ``y = scale * x @ R.T + t``."""

    scale: np.ndarray  # (T,)
    rotation: np.ndarray  # (T, 3, 3)
    translation: np.ndarray  # (T, 3)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Apply to points (T, N, 3)."""
        return self.scale[:, None, None] * np.einsum("tij,tnj->tni", self.rotation, x) + self.translation[:, None, :]

    def invert_apply(self, y: np.ndarray) -> np.ndarray:
        """Map points (T, N, 3) back: ``x = R.T (y - t) / scale``."""
        centred = y - self.translation[:, None, :]
        return np.einsum("tji,tnj->tni", self.rotation, centred) / self.scale[:, None, None]


def fit_similarity(src: np.ndarray, dst: np.ndarray, points: tuple[int, ...] | None = STABLE_POINTS) -> Similarity:
    """Least-squares similarity (Umeyama 1991) taking ``dst`` onto each frame of ``src``.

    Args:
        src: (T, N, 3) observed landmarks.
        dst: (N, 3) reference (canonical) landmarks.
        points: indices used for the fit; None for all.

    Returns:
        The transform with ``src[t] ≈ scale[t] * dst @ R[t].T + t[t]`` on ``points``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.ndim == 2:
        src = src[None]
    a = dst if points is None else dst[list(points)]  # (N, 3) model
    b = src if points is None else src[:, list(points)]  # (T, N, 3) observed
    mu_a = a.mean(axis=0)
    mu_b = b.mean(axis=1)  # (T, 3)
    ac = a - mu_a
    bc = b - mu_b[:, None]
    cov = np.einsum("tni,nj->tij", bc, ac) / len(a)  # (T, 3, 3)
    u, d, vt = np.linalg.svd(cov)
    sign = np.sign(np.linalg.det(u @ vt))
    fix = np.ones((len(b), 3))
    fix[:, 2] = sign
    rot = u @ (fix[:, :, None] * vt)
    var_a = (ac**2).sum() / len(a)
    scale = (d * fix).sum(axis=1) / var_a
    trans = mu_b - scale[:, None] * np.einsum("tij,j->ti", rot, mu_a)
    return Similarity(scale=scale, rotation=rot, translation=trans)


def rotation_to_euler(rot: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotation matrices → (T, 3) XYZ Euler angles in radians (Blender's 'XYZ' order)."""
    return Rotation.from_matrix(rot).as_euler("xyz").astype(np.float32)


def euler_to_rotation(euler: np.ndarray) -> np.ndarray:
    """(T, 3) XYZ Euler radians → (T, 3, 3) rotation matrices."""
    return Rotation.from_euler("xyz", euler).as_matrix()


def rotation_angle(rot: np.ndarray) -> np.ndarray:
    """Angle (radians) of each rotation (T, 3, 3) away from the identity."""
    cos = (np.trace(rot, axis1=1, axis2=2) - 1.0) / 2.0
    return np.arccos(np.clip(cos, -1.0, 1.0))


@dataclass
class Disentangled:
    """A track split into rigid head pose and canonical-frame (expression) landmarks."""

    expression_landmarks: np.ndarray  # (T, 468, 3) float32, canonical head frame, metres
    pose: np.ndarray  # (T, 6) float32: rx, ry, rz (rad, XYZ) and tx, ty, tz (metres)
    scale: np.ndarray  # (T,) pixels per metre
    frontal_index: int  # the frame with the smallest head rotation


def disentangle(
    camera_landmarks: np.ndarray, canonical: np.ndarray, expression_from: np.ndarray | None = None
) -> Disentangled:
    """Split camera-frame landmarks (T, 468, 3; pixels, y up) into head pose and expression.

    Translation is relative to the track's median position, in metres: x and y from the image
    displacement, z from the change of scale at a nominal camera distance of 0.6 m.

    Args:
        camera_landmarks: the landmarks the pose is estimated from.
        canonical: the canonical face (468, 3).
        expression_from: other landmarks (same shape) to map into the head frame with that pose;
            by default ``camera_landmarks`` themselves.
    """
    sim = fit_similarity(camera_landmarks, canonical)
    source = camera_landmarks if expression_from is None else expression_from
    expr = sim.invert_apply(np.asarray(source, dtype=np.float64)).astype(np.float32)
    euler = rotation_to_euler(sim.rotation)
    ref_scale = float(np.median(sim.scale))
    ref_t = np.median(sim.translation, axis=0)
    txy = (sim.translation[:, :2] - ref_t[:2]) / ref_scale
    tz = NOMINAL_DISTANCE_M * (1.0 - ref_scale / sim.scale)
    pose = np.concatenate([euler, txy, tz[:, None]], axis=1).astype(np.float32)
    frontal = int(np.argmin(rotation_angle(sim.rotation)))
    return Disentangled(expr, pose, sim.scale.astype(np.float32), frontal)


def apply_pose(landmarks: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """Place canonical-frame landmarks (T, N, 3) in the head pose (T, 6): ``R x + t``."""
    rot = euler_to_rotation(pose[:, :3])
    return (np.einsum("tij,tnj->tni", rot, landmarks) + pose[:, None, 3:]).astype(np.float32)


def mouth_aperture(landmarks: np.ndarray) -> np.ndarray:
    """|lm13 − lm14| / |lm33 − lm263| per frame, for (T, 468, 2|3) landmarks."""
    lips = np.linalg.norm(landmarks[:, LIP_UPPER_INNER] - landmarks[:, LIP_LOWER_INNER], axis=-1)
    eyes = np.linalg.norm(landmarks[:, EYE_OUTER_R] - landmarks[:, EYE_OUTER_L], axis=-1)
    return lips / np.maximum(eyes, 1e-9)


def _facing_like(pose: np.ndarray, photo_index: int, max_turn_deg: float) -> np.ndarray:
    """(T,) bool: the frames turned less than ``max_turn_deg`` from the photo's, the photo itself left out."""
    ok = np.degrees(np.linalg.norm(pose[:, :3] - pose[photo_index, :3], axis=1)) < max_turn_deg
    ok[photo_index] = False
    return ok


def open_frame(landmarks: np.ndarray, pose: np.ndarray, photo_index: int, avoid: list[int] | None = None,
               max_turn_deg: float = 12.0) -> int | None:
    """The frame whose mouth is most open, among those turned less than ``max_turn_deg`` from the photo and at
    least 3 frames from every frame in ``avoid`` (the targets); None if there is none."""
    ok = _facing_like(pose, photo_index, max_turn_deg)
    for t in avoid or []:
        ok[max(0, t - 3) : t + 4] = False
    if not ok.any():
        return None
    a = np.where(ok, mouth_aperture(landmarks), -np.inf)
    return int(np.argmax(a))


def open_frames(landmarks: np.ndarray, pose: np.ndarray, photo_index: int, share: float = 0.2, most: int = 16,
                avoid: list[int] | None = None, max_turn_deg: float = 12.0) -> list[int]:
    """The ``share`` most open frames (at most ``most``, evenly spread over that set's ranks; at least one) among
    those turned less than ``max_turn_deg`` from the photo and not in ``avoid``; the photo itself left out."""
    ok = _facing_like(pose, photo_index, max_turn_deg)
    ok[[t for t in avoid or [] if 0 <= t < len(ok)]] = False
    idx = np.where(ok)[0]
    if not len(idx):
        return []
    order = idx[np.argsort(mouth_aperture(landmarks[idx]))[::-1]][: max(1, int(round(share * len(idx))))]
    if len(order) > most:
        order = order[np.round(np.linspace(0, len(order) - 1, most)).astype(int)]
    return sorted(int(t) for t in order)


def lip_gap(landmarks: np.ndarray) -> np.ndarray:
    """(y13 − y14) / |lm33 − lm263| per frame, for canonical-frame landmarks (T, 468, 3): the signed vertical gap
    between the inner lips (negative when they overlap), linear in any motion — unlike ``mouth_aperture``, a
    distance, which can shrink as a mouth whose lips sit askew starts to open."""
    eyes = np.linalg.norm(landmarks[:, EYE_OUTER_R] - landmarks[:, EYE_OUTER_L], axis=-1)
    return (landmarks[:, LIP_UPPER_INNER, 1] - landmarks[:, LIP_LOWER_INNER, 1]) / np.maximum(eyes, 1e-9)
