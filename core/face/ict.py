"""Parley's full head: the ICT Face Model Light (MIT) fitted to MediaPipe's landmarks.

The asset (``core/assets/ict_head.npz``, made by ``scripts/build_ict_head.py``) holds the generic head in ICT's
centimetres, its triangles with UVs and material parts, identity modes (int8 with a scale per mode) and the 52 ARKit
shapes. ``core/assets/ict_correspondence.npz`` places each of the 468 MediaPipe points on an ICT face triangle, so
any ICT shape yields its 468 points, and a fit to tracked landmarks is a small least-squares problem:

    landmarks ≈ s R (neutral + identity·α + arkit·β) + t      (at the 468 points; β in [0, 1])

solved by alternating the similarity (Umeyama) and the bounded linear coefficients. The head at rest is
``neutral + identity·α`` (β dropped: the photo's expression never becomes the rest), placed by the same similarity
in Parley's canonical head frame (metres, x to the viewer's right, y up, z towards the camera).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.errors import CheckpointError
from core.face.arkit import ARKIT_NAMES
from core.face.geometry import Similarity, fit_similarity

ASSETS = Path(__file__).resolve().parents[1] / "assets"
HEAD_ASSET = ASSETS / "ict_head.npz"
CORRESPONDENCE = ASSETS / "ict_correspondence.npz"
#: Ridge on the identity coefficients, per coordinate fitted (chosen on GRID s1–s5's and dev-av's frames by
#: ``scripts/ict_fit_error.py``: from 1e-7 to 1e-6 the error does not change, 1e-5 adds 0.03 %).
IDENTITY_RIDGE = 1e-6
#: ARKit shapes a landmark fit may use: everything but tongueOut (no landmark sees the tongue).
FIT_SHAPES = tuple(i for i, n in enumerate(ARKIT_NAMES) if n != "tongueOut")


@dataclass(frozen=True)
class IctHead:
    """The head asset, decoded (float32, centimetres)."""

    neutral: np.ndarray  # (V, 3)
    triangles: np.ndarray  # (F, 3) int32 vertex indices
    triangles_uv: np.ndarray  # (F, 3) int32 indices into uv
    uv: np.ndarray  # (U, 2) ICT's layout: the face in u 0–1, the head in 1–2, teeth, gums … in further tiles
    part: np.ndarray  # (F,) int8 index into part_names
    part_names: tuple[str, ...]
    identity: np.ndarray  # (K, V, 3)
    arkit: np.ndarray  # (52, V, 3) ARKit shapes as vertex deltas, Apple's order
    corr_vertices: np.ndarray  # (468, 3) int: the ICT triangle under each MediaPipe point
    corr_weights: np.ndarray  # (468, 3) barycentric weights
    face_texels: np.ndarray | None = None  # (1024, 1024) int16: the face triangle under each face-tile texel

    def at_points(self, v: np.ndarray) -> np.ndarray:
        """ICT vertex arrays (..., V, 3) → their 468 MediaPipe points (..., 468, 3)."""
        return (self.corr_weights[:, :, None] * v[..., self.corr_vertices, :]).sum(-2)

    @property
    def n_modes(self) -> int:
        return len(self.identity)


@lru_cache(maxsize=1)
def load_head(path: str | Path = HEAD_ASSET, correspondence: str | Path = CORRESPONDENCE) -> IctHead:
    """The shipped head asset (cached per process).

    Raises:
        CheckpointError: the asset is missing or unreadable.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            ident = z["identity"].astype(np.float32) * z["identity_scale"].astype(np.float32)[:, None, None]
            head = dict(neutral=z["neutral"].astype(np.float32), triangles=z["triangles"],
                        triangles_uv=z["triangles_uv"], uv=z["uv"].astype(np.float32), part=z["part"],
                        part_names=tuple(str(n) for n in z["part_names"]), identity=ident,
                        arkit=z["arkit"].astype(np.float32),
                        face_texels=z["face_texels"] if "face_texels" in z.files else None)
        with np.load(correspondence, allow_pickle=False) as z:
            tri, w = z["triangles"].astype(np.int64), z["weights"].astype(np.float32)
    except (OSError, KeyError, ValueError) as e:
        raise CheckpointError(f"{path}: the head asset cannot be read ({e}); rebuild it with "
                              "scripts/build_ict_head.py") from e
    return IctHead(corr_vertices=tri, corr_weights=w, **head)


@dataclass
class HeadFit:
    """A fit of the head to one set of landmarks."""

    identity: np.ndarray  # (K,) identity coefficients
    arkit: np.ndarray  # (52,) the frame's expression in [0, 1] (tongueOut 0)
    similarity: Similarity  # ICT centimetres → canonical metres (batch of one)
    error: np.ndarray  # (468,) distance of each fitted point to its landmark, metres

    def place(self, v: np.ndarray) -> np.ndarray:
        """ICT-frame vertices (V, 3) cm → canonical frame (V, 3) metres."""
        return self.similarity.apply(np.asarray(v, np.float64)[None])[0].astype(np.float32)

    def orient(self, d: np.ndarray) -> np.ndarray:
        """ICT-frame vertex deltas (..., V, 3) cm → canonical-frame deltas, metres (rotation and scale only)."""
        s, r = float(self.similarity.scale[0]), self.similarity.rotation[0]
        return (s * np.asarray(d, np.float64) @ r.T).astype(np.float32)


def _bounded_lsq(a: np.ndarray, b: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """min ‖a x − b‖ with lower ≤ x ≤ upper, solved on a's QR factor (a square system: ~20× faster than on a)."""
    from scipy.optimize import lsq_linear

    q, r = np.linalg.qr(a)
    return np.asarray(lsq_linear(r, q.T @ b, bounds=(lower, upper), method="bvls").x)


def _pose_columns(shape: np.ndarray) -> np.ndarray:
    """(468·3, 7) derivatives of the points under a small scale, rotation and translation change."""
    c = shape - shape.mean(0)
    cols = [c]
    for axis in np.eye(3):
        cols.append(np.cross(axis, c))
    for axis in np.eye(3):
        cols.append(np.broadcast_to(axis, c.shape))
    return np.stack([x.reshape(-1) for x in cols], axis=1)


def fit_head(
    landmarks: np.ndarray, head: IctHead | None = None, n_modes: int | None = None, expression: bool = True,
    identity: np.ndarray | None = None, iterations: int = 3,
) -> HeadFit:
    """Fit identity (unless given) and, with ``expression``, the ARKit shapes to canonical landmarks (468, 3) m.

    Args:
        landmarks: one face in Parley's canonical frame (pose removed), metres.
        n_modes: identity modes to use (default: all the asset has).
        identity: fixed identity coefficients (for a video: the person's, fitted once on the rest).
    """
    h = head or load_head()
    k = h.n_modes if n_modes is None else min(n_modes, h.n_modes)
    target = np.asarray(landmarks, np.float64)
    base = h.at_points(h.neutral).astype(np.float64)
    modes = h.at_points(h.identity[:k]).reshape(k, target.size).T.astype(np.float64)  # (1404, K)
    shapes = h.at_points(h.arkit[list(FIT_SHAPES)]).reshape(len(FIT_SHAPES), -1).T.astype(np.float64)
    alpha = np.zeros(k) if identity is None else np.asarray(identity[:k], np.float64)
    beta = np.zeros(len(FIT_SHAPES))
    n_id = k if identity is None else 0
    n_ex = len(FIT_SHAPES) if expression else 0
    for _ in range(iterations):
        shape = base.reshape(-1) + modes @ alpha + shapes @ beta
        sim = fit_similarity(target[None], shape.reshape(-1, 3), points=None)
        residual = sim.invert_apply(target[None])[0].reshape(-1) - shape
        # Gauss–Newton step on the coefficients together with a small similarity change (scale, rotation,
        # translation): the pose columns stop the coefficients from fighting the alignment, so it converges in a few
        # steps instead of crawling by alternation.
        cols = [modes] if n_id else []
        cols += [shapes] if n_ex else []
        cols.append(_pose_columns(shape.reshape(-1, 3)))
        a = np.concatenate(cols, axis=1)
        lo = np.concatenate([np.full(n_id, -np.inf), -beta if n_ex else np.zeros(0), np.full(7, -np.inf)])
        hi = np.concatenate([np.full(n_id, np.inf), 1 - beta if n_ex else np.zeros(0), np.full(7, np.inf)])
        ridge = np.zeros(a.shape[1])
        ridge[:n_id] = np.sqrt(IDENTITY_RIDGE * len(residual))
        a = np.concatenate([a, np.diag(ridge)[:n_id]])
        b = np.concatenate([residual, -ridge[:n_id] * alpha[:n_id]])
        step = _bounded_lsq(a, b, lo, hi) if n_ex else np.linalg.lstsq(a, b, rcond=None)[0]
        alpha = alpha + step[:n_id] if n_id else alpha
        beta = np.clip(beta + step[n_id : n_id + n_ex], 0.0, 1.0) if n_ex else beta
    shape = (base.reshape(-1) + modes @ alpha + shapes @ beta).reshape(-1, 3)
    sim = fit_similarity(target[None], shape, points=None)
    err = np.linalg.norm(sim.apply(shape[None])[0] - target, axis=1)
    full = np.zeros(len(ARKIT_NAMES))
    full[list(FIT_SHAPES)] = beta
    return HeadFit(alpha.astype(np.float32), full.astype(np.float32), sim, err.astype(np.float32))


def rest_vertices(fit: HeadFit, head: IctHead | None = None) -> np.ndarray:
    """The fitted person's head at rest (no expression) in the canonical frame, metres (V, 3)."""
    h = head or load_head()
    k = len(fit.identity)
    return fit.place(h.neutral + np.tensordot(fit.identity, h.identity[:k], axes=1))
