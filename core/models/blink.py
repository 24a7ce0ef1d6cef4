"""Blinks learnt from tracked footage: how often, how long, what shape, and how the lids move.

From the eye openness of the training clips (lid gap / eye width per eye) this fits: the blink
rate, the distribution of blink durations, the mean closure profile of a blink, and per eye the
landmark displacement of a full closure (regressing the expression coefficients on closure,
restricted to the points around that eye). Sampling draws blink times from a gamma renewal process
with the measured rate, durations from the measured ones, and applies the mean profile to both
eyes (with a little asymmetry), deterministically for a given seed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.errors import CheckpointError
from core.models.checkpoint import read_checkpoint, save_checkpoint

KIND = "parley.blink"
PROFILE_POINTS = 16
EYE_RADIUS_M = 0.022


@dataclass
class BlinkConfig:
    rate_per_min: float = 15.0
    interval_shape: float = 2.0  # gamma shape of the time between blinks
    durations_s: list[float] = field(default_factory=lambda: [0.16, 0.2, 0.24])
    min_gap_s: float = 0.6
    data: str = ""
    blinks: int = 0
    minutes: float = 0.0


@dataclass
class BlinkModel:
    config: BlinkConfig
    profile: np.ndarray  # (PROFILE_POINTS,) closure 0..1..0 over a blink's duration
    displacement: np.ndarray  # (2, 468, 3): right-eye and left-eye full-closure landmark displacement (metres)

    def save(self, path: str | Path, metrics: dict[str, object] | None = None) -> Path:
        state = {"profile": torch.from_numpy(self.profile.astype(np.float32)),
                 "displacement": torch.from_numpy(self.displacement.astype(np.float32))}
        return save_checkpoint(path, KIND, self.config, state, metrics)

    @classmethod
    def load(cls, path: str | Path) -> BlinkModel:
        cfg_d, t, _ = read_checkpoint(path, KIND)
        try:
            return cls(BlinkConfig(**cfg_d), t["profile"].numpy(), t["displacement"].numpy())
        except (KeyError, TypeError) as exc:
            raise CheckpointError(f"{path}: incomplete blink model ({exc})") from exc

    def sample(self, n_frames: int, fps: float, seed: int = 0) -> np.ndarray:
        """(T, 2) closure in [0, 1] (right, left eye) for a clip of n_frames at fps."""
        rng = np.random.default_rng(seed)
        cfg = self.config
        out = np.zeros((n_frames, 2), np.float32)
        mean_gap = 60.0 / max(cfg.rate_per_min, 1e-3)
        t = rng.uniform(0.3, 1.0) * mean_gap  # the first blink comes sooner than a full interval
        dur_end = n_frames / fps
        while t < dur_end:
            d = float(rng.choice(cfg.durations_s)) * rng.uniform(0.9, 1.1)
            times = (np.arange(n_frames) + 0.5) / fps
            u = (times - t) / d
            inside = (u >= 0) & (u <= 1)
            val = np.interp(u[inside], np.linspace(0, 1, len(self.profile)), self.profile)
            amp = rng.uniform(0.9, 1.0, size=2)
            out[inside] = np.maximum(out[inside], val[:, None] * amp[None, :])
            t += max(cfg.min_gap_s, rng.gamma(cfg.interval_shape, mean_gap / cfg.interval_shape))
        return np.clip(out, 0.0, 1.0)

    def apply(self, landmarks: np.ndarray, blink: np.ndarray) -> np.ndarray:
        """Close the lids: landmarks (T, 468, 3) + blink (T, 2) × per-eye displacement."""
        return (landmarks + np.einsum("te,evc->tvc", blink, self.displacement)).astype(np.float32)


def closure(openness: np.ndarray) -> np.ndarray:
    """Eye openness (T, 2) → closure in [0, 1] relative to the clip's open eye (90th percentile)."""
    ref = np.percentile(openness, 90, axis=0)
    return np.clip((ref - openness) / np.maximum(ref, 1e-6), 0.0, 1.0)


def detect_blinks(openness: np.ndarray, fps: float, threshold: float = 0.15, peak: float = 0.2,
                  max_s: float = 0.6) -> list[tuple[int, int]]:
    """Blink spans (start, end) in a tracked clip: both lids dip ≥ ``peak`` below the open eye, for at most ``max_s``.

    MediaPipe's mesh under-reads lid closure (a real blink shows as a 25–40 % dip in lid gap), so
    the thresholds are relative dips, not the "closed" threshold used on generated faces.
    """
    c = closure(openness).mean(axis=1)
    spans = []
    t = 0
    while t < len(c):
        if c[t] > threshold:
            s = t
            while t < len(c) and c[t] > threshold:
                t += 1
            if s > 0 and t < len(c) and c[s:t].max() >= peak and (t - s) / fps <= max_s:
                spans.append((s, t))
        t += 1
    return spans


def fit_blinks(
    openness: list[np.ndarray], coeffs: list[np.ndarray], fps: float, components: np.ndarray, canonical: np.ndarray,
    data: str = "",
) -> BlinkModel:
    """Fit rate, durations, profile and lid displacement from per-clip eye openness and expression coefficients."""
    durations, profiles, intervals = [], [], []
    frames = 0
    for o in openness:
        frames += len(o)
        c = closure(o).mean(axis=1)
        starts = []
        for s, e in detect_blinks(o, fps):  # events cut by the clip's edges are left out
            a, b = max(0, s - 1), min(len(o), e + 1)
            seg = c[a:b]
            if seg.max() < 0.2:
                continue
            durations.append((b - a) / fps)
            profiles.append(
                np.interp(np.linspace(0, len(seg) - 1, PROFILE_POINTS), np.arange(len(seg)), seg) / seg.max()
            )
            starts.append(s)
        intervals += [float(d) / fps for d in np.diff(starts)]
    minutes = frames / fps / 60.0
    rate = len(durations) / minutes if minutes > 0 else 15.0
    profile = np.mean(profiles, axis=0) if profiles else np.sin(np.linspace(0, np.pi, PROFILE_POINTS))
    profile = np.clip(profile - min(profile[0], profile[-1]), 0, None)
    profile /= max(profile.max(), 1e-6)
    shape = 2.0
    if len(intervals) >= 5:
        m, v = float(np.mean(intervals)), float(np.var(intervals))
        shape = float(np.clip(m * m / max(v, 1e-6), 1.0, 8.0))
    # lid displacement of a full closure, per eye: regress coefficients on closure, keep that eye's region
    clo = np.concatenate([closure(o) for o in openness])  # (N, 2)
    co = np.concatenate(coeffs)  # (N, K)
    x = np.concatenate([clo, np.ones((len(clo), 1))], axis=1)
    beta, *_ = np.linalg.lstsq(x, co - co.mean(0), rcond=None)  # (3, K)
    disp = (beta[:2] @ components[: co.shape[1]]).reshape(2, -1, 3)
    from core.face.geometry import EYE_OUTER_L, EYE_OUTER_R

    inner = {EYE_OUTER_R: 133, EYE_OUTER_L: 362}  # inner eye corners (face-mesh numbering)
    for e, outer in enumerate((EYE_OUTER_R, EYE_OUTER_L)):
        centre = (canonical[outer] + canonical[inner[outer]]) / 2
        far = np.linalg.norm(canonical - centre, axis=1) > EYE_RADIUS_M
        disp[e, far] = 0.0
    cfg = BlinkConfig(rate_per_min=float(rate), interval_shape=shape,
                      durations_s=[round(d, 4) for d in durations] or [0.2], data=data,
                      blinks=len(durations), minutes=float(minutes))
    return BlinkModel(cfg, profile.astype(np.float32), disp.astype(np.float32))


def describe(model: BlinkModel) -> str:
    c = model.config
    d = np.asarray(c.durations_s)
    return json.dumps({"rate_per_min": round(c.rate_per_min, 2), "blinks": c.blinks, "minutes": round(c.minutes, 1),
                       "duration_median_s": round(float(np.median(d)), 3), "interval_shape": round(c.interval_shape, 2),
                       "config": {k: v for k, v in asdict(c).items() if k != "durations_s"}})
