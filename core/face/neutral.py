"""The face at rest: a neutral, closed-mouth shape estimated from any frame (a smile, an open mouth, mid-word).

Animation starts from the person's rest, not from whatever the photo caught. A frame's canonical-frame landmarks
are identity plus expression; in the landmark PCA's expression directions both contribute, so each direction's
coefficient is split by their variances (a Gaussian posterior mean, per direction):

    p_k = c_k · (frame − canonical) − μ_k      (μ: mean rest of real speakers, in PCA coordinates)
    ê_k = v_k / (v_k + s_k²) · p_k             (v: expression variance around the rest, s²: identity variance)
    rest = frame − Σ_k ê_k c_k

v comes from every frame of the training clips measured from its clip's rest (lips together, see ``clip_rest``);
μ and s² from the rests of the identity speakers (``parley train neutral``; the model card says which). What
identity shows along an expression direction (a wide mouth, full lips) stays; what only expression explains (an
open jaw, parted lips) goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.face.geometry import lip_gap, mouth_aperture
from core.models.checkpoint import read_checkpoint, save_checkpoint

KIND = "parley.neutral"
N_POINTS = 468


@dataclass
class NeutralConfig:
    """How the rest estimator was made (saved in the file)."""

    n_modes: int = 12  # PCA expression directions the expression is removed from
    closed_quantile: float = 10.0  # a clip's rest: its frames with the lips at most this percentile apart…
    data: str = ""
    rest_speakers: tuple[str, ...] = ()


@dataclass
class NeutralModel:
    """Per-direction split of a frame's offset into identity and expression."""

    components: np.ndarray  # (K, 1404) orthonormal expression directions (the landmark PCA's first K)
    rest_mean: np.ndarray  # (K,) μ
    expression_var: np.ndarray  # (K,) v
    identity_var: np.ndarray  # (K,) s²
    opening: np.ndarray  # (1404,) mean displacement from the rest per unit of lip gap (jaw and lips opening)
    closed_gap: float  # the vertical lip gap (``lip_gap``) of real speakers' rests
    config: NeutralConfig = field(default_factory=NeutralConfig)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def gain(self) -> np.ndarray:
        """(K,) share of a frame's offset along each direction attributed to expression."""
        return self.expression_var / (self.expression_var + self.identity_var)

    def estimate(self, frame: np.ndarray, canonical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A frame (468, 3) or frames (T, 468, 3) → (its rest shape, its expression coefficients ê (…, K))."""
        x = np.asarray(frame, np.float64)
        flat = x.reshape(-1, N_POINTS * 3)
        p = (flat - canonical.reshape(1, -1)) @ self.components.T.astype(np.float64) - self.rest_mean
        e = p * self.gain
        rest = flat - e @ self.components.astype(np.float64)
        # lips still apart (identity cannot part them): close them along the data's own opening motion
        for _ in range(2):
            excess = lip_gap(rest.reshape(-1, N_POINTS, 3)) - self.closed_gap
            rest -= np.maximum(excess, 0.0)[:, None] * self.opening[None].astype(np.float64)
        return rest.reshape(x.shape).astype(np.float32), e.reshape(*x.shape[:-2], -1).astype(np.float32)

    def save(self, path: str | Path) -> Path:
        t = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in (
            ("components", self.components), ("rest_mean", self.rest_mean),
            ("expression_var", self.expression_var), ("identity_var", self.identity_var),
            ("opening", self.opening), ("closed_gap", np.array([self.closed_gap])))}
        return save_checkpoint(path, KIND, self.config, t, self.metrics)

    @classmethod
    def load(cls, path: str | Path) -> NeutralModel:
        """Raises CheckpointError for a missing, non-safetensors or other-kind file."""
        from core.models.checkpoint import config_from_dict, metrics_of

        cfg, t, meta = read_checkpoint(path, KIND)
        n = {k: v.numpy().astype(np.float32) for k, v in t.items()}
        return cls(n["components"], n["rest_mean"], n["expression_var"], n["identity_var"], n["opening"],
                   float(n["closed_gap"][0]), config_from_dict(NeutralConfig, cfg), metrics_of(meta))


ASSET = Path(__file__).resolve().parents[1] / "assets" / "neutral.safetensors"


@lru_cache(maxsize=1)
def shipped_neutral() -> NeutralModel:
    """The shipped rest estimator (``parley train neutral``). Raises CheckpointError when it is missing."""
    return NeutralModel.load(ASSET)


def rest_of(frames: np.ndarray, canonical: np.ndarray, model: NeutralModel | None = None) -> np.ndarray:
    """The person's rest (468, 3) from one frame (468, 3) or a track (T, 468, 3): each frame's estimate, and for a
    track their per-coordinate median (a smile or a word in some frames does not move it)."""
    m = model or shipped_neutral()
    rest, _ = m.estimate(frames, canonical)
    return rest if rest.ndim == 2 else np.median(rest, axis=0).astype(np.float32)


def clip_rest(landmarks: np.ndarray, quantile: float = 10.0) -> np.ndarray:
    """A clip's rest (468, 3): the mean of its frames whose lips are closest together (≤ the ``quantile``-th
    percentile of the inner-lip aperture, and always the frames under ``LIPS_CLOSED``)."""
    from core.metrics.sync import LIPS_CLOSED

    a = mouth_aperture(landmarks)
    keep = a <= max(float(np.percentile(a, quantile)), LIPS_CLOSED)
    return landmarks[keep].mean(axis=0).astype(np.float32)


def fit_neutral(
    expression_clips: list[np.ndarray], identity_rests: dict[str, list[np.ndarray]], components: np.ndarray,
    canonical: np.ndarray, cfg: NeutralConfig,
) -> NeutralModel:
    """Fit v on ``expression_clips`` (T, 468, 3 each) and μ, s² on speakers' rests (one mean rest per speaker).

    Args:
        expression_clips: clips whose frames measure how far expression moves the face from its rest.
        identity_rests: speaker → that speaker's clip rests; each speaker counts once.
        components: the landmark PCA's directions (≥ ``cfg.n_modes`` rows).
        canonical: the canonical face (468, 3).
        cfg: settings.
    """
    c = components[: cfg.n_modes].astype(np.float64)
    sq, n = np.zeros(cfg.n_modes), 0
    num, den, closed = np.zeros(N_POINTS * 3), 0.0, []
    for lm in expression_clips:
        rest = clip_rest(lm, cfg.closed_quantile)
        d = (lm - rest).reshape(len(lm), -1).astype(np.float64)
        e = d @ c.T
        sq += (e**2).sum(axis=0)
        n += len(lm)
        ra = float(lip_gap(rest[None])[0])
        da = lip_gap(lm) - ra
        num += d.T @ da
        den += float(da @ da)
        closed.append(ra)
    speakers = np.stack([np.mean(r, axis=0) for r in identity_rests.values()])  # (S, 468, 3)
    p = (speakers.reshape(len(speakers), -1) - canonical.reshape(1, -1)) @ c.T  # (S, K)
    cfg.rest_speakers = tuple(identity_rests)
    return NeutralModel(c.astype(np.float32), p.mean(0).astype(np.float32), (sq / max(n, 1)).astype(np.float32),
                        p.var(0, ddof=1).astype(np.float32) if len(p) > 1 else np.zeros(cfg.n_modes, np.float32),
                        (num / max(den, 1e-12)).astype(np.float32), float(np.median(closed)), cfg)
