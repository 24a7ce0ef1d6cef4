"""Room impulse responses for training: shoebox rooms by the image-source method (``pyroomacoustics``, a training
extra), with Parley's synthetic decaying-noise rooms (``core.train.augment.reverb``) where it is not installed.

Rooms 3–10 m across, reverberation times 0.2–0.9 s, talker 0.4–3 m from the microphone: a living room, an office,
a hall, a kitchen phone call. Made once per seed and cached beside the run.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from core.train.augment import SR

log = logging.getLogger(__name__)


def room_bank(n: int = 200, seed: int = 0, cache: Path | None = None) -> list[np.ndarray]:
    """``n`` impulse responses (float32, 16 kHz, peak 1), or [] when pyroomacoustics is not installed."""
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            return [z[k] for k in sorted(z.files)]
    try:
        import pyroomacoustics as pra
    except ImportError:
        log.info("pyroomacoustics is not installed: synthetic rooms only")
        return []
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    while len(out) < n:
        dims = np.array([rng.uniform(3, 10), rng.uniform(3, 8), rng.uniform(2.4, 4)])
        rt60 = rng.uniform(0.2, 0.9)
        try:
            absorption, order = pra.inverse_sabine(rt60, dims)
        except ValueError:  # a room too small for that reverberation time
            continue
        room = pra.ShoeBox(dims, fs=SR, materials=pra.Material(absorption), max_order=min(order, 12))
        src = rng.uniform([0.5, 0.5, 1.2], dims - [0.5, 0.5, 0.8])
        direction = rng.standard_normal(3)
        direction[2] *= 0.2
        mic = src + direction / np.linalg.norm(direction) * rng.uniform(0.4, 3.0)
        if np.any(mic < 0.3) or np.any(mic > dims - 0.3):
            continue
        room.add_source(src)
        room.add_microphone(mic)
        room.compute_rir()
        ir = np.asarray(room.rir[0][0], np.float64)
        ir = ir[: int(SR * min(1.2, rt60 * 1.5))]
        out.append((ir / (np.abs(ir).max() + 1e-12)).astype(np.float32))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, **{f"r{i:04d}": r for i, r in enumerate(out)})
    return out


def convolve(x: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """``x`` heard through ``ir``, the same length and peak level as ``x``."""
    m = len(x) + len(ir) - 1
    y = np.fft.irfft(np.fft.rfft(x, m) * np.fft.rfft(ir, m), m)[: len(x)]
    return (y * (np.abs(x).max() / (np.abs(y).max() + 1e-12))).astype(np.float32)
