"""Landmark motion → ARKit-52 weights, through the ICT head's ARKit shapes at the 468 MediaPipe points.

Each frame's landmark offset from the rest d_t (468×3) is explained by the person's ARKit shapes B (52 deltas at
the same points, from the ICT head fitted to the rest): the weights minimise

    Σ_t ‖B w_t − d_t‖²_W + λ ‖w_t‖² + μ ‖w_t − w_{t−1}‖²      with 0 ≤ w ≤ 1,

(W weighs the lips, whose millimetres matter most), solved for the whole clip at once by accelerated projected
gradient (FISTA) on the normal equations, so a minute of animation costs milliseconds. The blink curves drive
eyeBlinkLeft/Right directly (the lids' displacement is the blink model's, not a solved guess), gaze stays 0 (the
eyeLook shapes are for gaze, which the landmarks do not carry) and tongueOut stays 0 (no landmark sees the tongue).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.face.arkit import ARKIT_NAMES, BLINK_LEFT, BLINK_RIGHT
from core.face.ict import HeadFit, IctHead, fit_head, load_head
from core.metrics.regions import LIPS

#: Shapes the landmark solve sets: everything but blinks (from the blink curves), gaze and the tongue.
SOLVED = tuple(i for i, n in enumerate(ARKIT_NAMES) if not n.startswith(("eyeBlink", "eyeLook")) and n != "tongueOut")
#: Weight of a lip point against any other point in the solve.
LIP_WEIGHT = 4.0


@dataclass(frozen=True)
class SolveSettings:
    ridge: float = 1e-3  # λ, relative to the largest eigenvalue of BᵀWB
    smooth: float = 2e-3  # μ, the same scale
    iterations: int = 150


@dataclass
class ArkitBasis:
    """The person's ARKit shapes at the 468 points (canonical metres) and the solve's fixed matrices."""

    deltas: np.ndarray  # (52, 468, 3)
    weighted: np.ndarray  # (468·3, S) float32: W B over the solved shapes
    gram: np.ndarray  # (S, S) BᵀWB
    scale: float  # its largest eigenvalue
    fit: HeadFit

    def project(self, d: np.ndarray) -> np.ndarray:
        """BᵀW d for offsets (T, 468, 3) → (T, S)."""
        return np.asarray(np.asarray(d, np.float32).reshape(len(d), -1) @ self.weighted)


def point_weights() -> np.ndarray:
    w = np.ones(468)
    w[list(LIPS)] = LIP_WEIGHT
    return w


def arkit_basis(rest: np.ndarray, head: IctHead | None = None) -> ArkitBasis:
    """The ARKit shapes of the person whose rest landmarks (468, 3) are given (identity-only fit)."""
    h = head or load_head()
    fit = fit_head(rest, h, expression=False)
    deltas = fit.orient(h.at_points(h.arkit)).astype(np.float64)
    b = deltas[list(SOLVED)].reshape(len(SOLVED), -1)
    weighted = (b * np.repeat(point_weights(), 3)[None]).T
    gram = b @ weighted
    return ArkitBasis(deltas.astype(np.float32), weighted.astype(np.float32), gram.astype(np.float32),
                      float(np.linalg.eigvalsh(gram)[-1]), fit)


_BASES: dict[bytes, ArkitBasis] = {}


def person_basis(rest: np.ndarray) -> ArkitBasis:
    """``arkit_basis`` with the shipped head, kept for the last few people: a batch animates one face many times,
    and the fit is most of a line's compute."""
    key = np.ascontiguousarray(rest, np.float32).tobytes()
    if key not in _BASES:
        if len(_BASES) >= 8:
            _BASES.pop(next(iter(_BASES)))
        _BASES[key] = arkit_basis(rest)
    return _BASES[key]


def solve_arkit(
    offsets: np.ndarray, blink: np.ndarray, basis: ArkitBasis, settings: SolveSettings | None = None
) -> np.ndarray:
    """(T, 468, 3) landmark offsets from the rest (expression only, blinks not applied) and (T, 2) blink closure
    (right, left, the blink model's order) → (T, 52) float32 ARKit weights in [0, 1], Apple's order."""
    s = settings or SolveSettings()
    t = len(offsets)
    out = np.zeros((t, len(ARKIT_NAMES)), np.float32)
    if t:
        out[:, list(SOLVED)] = _fista(basis.project(offsets), basis.gram, basis.scale, s)
        out[:, BLINK_RIGHT] = blink[:, 0]
        out[:, BLINK_LEFT] = blink[:, 1]
    return np.clip(out, 0.0, 1.0)


def _fista(c: np.ndarray, gram: np.ndarray, scale: float, s: SolveSettings) -> np.ndarray:
    """Box-constrained min over W (T, S) of ½ tr(W G Wᵀ) − tr(W Cᵀ) + ½λ‖W‖² + ½μ Σ‖W_t − W_{t−1}‖²."""
    lam, mu = s.ridge * scale, s.smooth * scale
    step = np.float32(1.0 / (scale + lam + 4 * mu))
    g = (gram + lam * np.eye(len(gram))).astype(np.float32) * step  # the step folded into the matrices
    c = (c * step).astype(np.float32)
    mu_step = np.float32(mu * step)
    w = np.zeros_like(c)
    y, k = w.copy(), 1.0
    lap, diff, grad, w_next = (np.zeros_like(c) for _ in range(4))
    for _ in range(s.iterations):  # in place: the same arithmetic without a new array per step
        np.subtract(y[1:], y[:-1], out=diff[1:])
        lap[0] = 0.0
        lap[1:] = diff[1:]
        lap[:-1] -= diff[1:]
        np.matmul(y, g, out=grad)
        grad -= c
        lap *= mu_step
        grad += lap
        np.subtract(y, grad, out=w_next)
        np.clip(w_next, 0.0, 1.0, out=w_next)
        k_next = (1 + np.sqrt(1 + 4 * k * k)) / 2
        np.subtract(w_next, w, out=y)
        y *= np.float32((k - 1) / k_next)
        y += w_next
        w, w_next, k = w_next, w, k_next
    return w


def reproduce(weights: np.ndarray, basis: ArkitBasis) -> np.ndarray:
    """The landmark offsets (T, 468, 3) that ARKit weights (T, 52) make, blinks and gaze left out."""
    keep = list(SOLVED)
    return np.asarray(np.tensordot(weights[:, keep], basis.deltas[keep], axes=1), np.float32)


def solve_per_frame(offsets: np.ndarray, basis: ArkitBasis) -> np.ndarray:
    """The exact bounded solve of each frame alone (no temporal term; ~100× slower than ``solve_arkit``): the
    benchmark's reference for what 0–1 weights can reproduce."""
    from core.face.ict import _bounded_lsq

    w = np.sqrt(np.repeat(point_weights(), 3))
    b = (basis.deltas[list(SOLVED)].reshape(len(SOLVED), -1).astype(np.float64) * w[None]).T
    out = np.zeros((len(offsets), len(ARKIT_NAMES)), np.float32)
    lo, hi = np.zeros(len(SOLVED)), np.ones(len(SOLVED))
    for t, d in enumerate(np.asarray(offsets, np.float64).reshape(len(offsets), -1)):
        out[t, list(SOLVED)] = _bounded_lsq(b, d * w, lo, hi)
    return out
