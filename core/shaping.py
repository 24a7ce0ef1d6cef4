"""What happens to Ψ's coefficients before they become landmarks: the chosen smoothing, and the lips brought to a
real talker's range (``core.models.articulation``)."""

from __future__ import annotations

import numpy as np

from core.loading import Models


def apply_smoothing(m: Models, q: np.ndarray, fps: float) -> np.ndarray:
    """The chosen smoothing on (T, 20) coefficients; a Gaussian's σ is in 25 fps frames and scales with fps."""
    from core.models.smoother import gaussian_smooth, smooth_adaptive

    if m.smoothing == "adaptive" and m.smoother is not None:
        return smooth_adaptive(m.smoother, q, m.pca.components)
    if m.smoothing.startswith("gaussian:"):
        return gaussian_smooth(q, float(m.smoothing.split(":")[1]) * fps / 25.0)
    return q


def shape_lips(m: Models, q: np.ndarray, rest: np.ndarray, samples: np.ndarray, fps: float,
               articulation: float = 1.0, visemes: np.ndarray | None = None,
               speech: np.ndarray | None = None) -> np.ndarray:
    """Ψ's lip opening brought to a real talker's range, times ``articulation`` (``core.models.articulation``);
    ``speech``: the frames that are speech, when the caller has them (``spontaneous.prosody``), else measured.

    A Ψ trained relative to the reference frame (no range measured) is only scaled by ``articulation``.
    """
    from core.audio.features import frame_energy
    from core.models.articulation import RangeSettings, shape_range, speech_frames, unit_open_dir

    cfg = m.expression.cfg
    if cfg.target != "rest" or cfg.open_p90 <= 0:
        return (q * np.float32(articulation)).astype(np.float32)
    comps = m.pca.components
    if speech is None:
        speech = speech_frames(frame_energy(samples, fps)[: len(q)])
    d = unit_open_dir(rest, comps, m.neutral.opening, q.shape[1])
    settings = RangeSettings(cfg.open_p90, cfg.closure_floor, level=cfg.range_level, close_at=cfg.close_at,
                             open_share=cfg.open_share)
    return shape_range(q, rest, comps, d, speech, settings, articulation, visemes, hold=max(1, round(0.08 * fps)))
