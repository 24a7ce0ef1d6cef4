"""Audio augmentation toward real voices and rooms: noise at 6–30 dB SNR, speed, reverb, band limits.

The paper mixes noise files at 6–30 dB SNR in 3 dB steps. No noise corpus can be downloaded here,
so the noises are made: white, pink and brown noise, mains hum with harmonics, and babble built
from other training clips' speech (the most realistic of them). Speed perturbation resamples the
audio (pitch and tempo move together, as in Kaldi's 0.9/1.0/1.1) and the caller warps the target
curves by the same factor; reverb convolves with a synthetic exponentially decaying room response;
band limits imitate telephones and cheap microphones.
"""

from __future__ import annotations

import numpy as np

SR = 16000


def coloured_noise(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise of length n: 'white', 'pink' (1/f) or 'brown' (1/f²)."""
    white = rng.standard_normal(n)
    if kind == "white":
        x = white
    else:
        spec = np.fft.rfft(white)
        f = np.maximum(np.fft.rfftfreq(n, 1 / SR), 20.0)
        spec /= np.sqrt(f) if kind == "pink" else f
        x = np.fft.irfft(spec, n)
    return (x / (np.sqrt((x**2).mean()) + 1e-12)).astype(np.float32)


def hum(n: int, rng: np.random.Generator) -> np.ndarray:
    f0 = rng.choice([50.0, 60.0])
    t = np.arange(n) / SR
    x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.28)) / k for k in range(1, 6))
    x = np.asarray(x) + 0.1 * rng.standard_normal(n)
    return (x / (np.sqrt((x**2).mean()) + 1e-12)).astype(np.float32)


def babble(n: int, pool: list[np.ndarray], rng: np.random.Generator, voices: int = 3) -> np.ndarray:
    """Several other speakers' speech summed (random offsets, looped to length)."""
    x = np.zeros(n, np.float64)
    for _ in range(voices):
        src = pool[int(rng.integers(len(pool)))]
        src = np.roll(np.resize(src, n), int(rng.integers(n)))
        x += src / (np.sqrt((src.astype(np.float64) ** 2).mean()) + 1e-12)
    return (x / (np.sqrt((x**2).mean()) + 1e-12)).astype(np.float32)


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Add ``noise`` so that speech power / noise power = snr_db (speech power over its active part)."""
    p = speech.astype(np.float64) ** 2
    active = p[p > 1e-3 * p.max()] if p.max() > 0 else p
    ps = float(active.mean()) if len(active) else 0.0
    scale = np.sqrt(ps / (10 ** (snr_db / 10)))
    return (speech + scale * noise[: len(speech)]).astype(np.float32)


def change_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Resample so the clip plays ``factor`` times faster (pitch moves with it)."""
    if factor == 1.0:
        return x
    n = int(round(len(x) / factor))
    return np.interp(np.arange(n) * factor, np.arange(len(x)), x).astype(np.float32)


def reverb(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic room: exponentially decaying noise, RT60 0.15–0.7 s, plus the direct path."""
    rt60 = rng.uniform(0.15, 0.7)
    n = int(rt60 * SR)
    t = np.arange(n) / SR
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60) * rng.uniform(0.2, 0.6)
    ir[0] = 1.0
    m = len(x) + n - 1
    y = np.fft.irfft(np.fft.rfft(x, m) * np.fft.rfft(ir, m), m)[: len(x)]
    return (y * (np.abs(x).max() / (np.abs(y).max() + 1e-12))).astype(np.float32)


def band_limit(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random high-pass (80–400 Hz) and low-pass (2.8–6 kHz) with soft edges."""
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / SR)
    lo, hi = rng.uniform(80, 400), rng.uniform(2800, 6000)
    gain = 1 / (1 + (lo / np.maximum(f, 1.0)) ** 4) / (1 + (f / hi) ** 8)
    return np.fft.irfft(spec * gain, len(x)).astype(np.float32)


def augment(
    x: np.ndarray,
    rng: np.random.Generator,
    pool: list[np.ndarray],
    snrs: tuple[float, ...],
    clean_fraction: float,
    reverb_prob: float,
    bandlimit_prob: float,
) -> np.ndarray:
    """One random draw of room, channel and noise for a clip (speed is applied by the caller)."""
    if rng.random() < reverb_prob:
        x = reverb(x, rng)
    if rng.random() < bandlimit_prob:
        x = band_limit(x, rng)
    if snrs and rng.random() >= clean_fraction:
        kind = rng.choice(["white", "pink", "brown", "hum", "babble", "babble"])
        if kind == "babble" and pool:
            noise = babble(len(x), pool, rng)
        elif kind == "hum":
            noise = hum(len(x), rng)
        else:
            noise = coloured_noise(len(x), str(kind) if kind != "babble" else "pink", rng)
        x = mix_at_snr(x, noise, float(rng.choice(snrs)))
    return (x * rng.uniform(0.3, 2.0)).astype(np.float32)


def _warp_bins(a: np.ndarray, factor: float) -> np.ndarray:
    """Stretch each row of ``a`` (F, bins) along the frequency axis by ``factor`` (content at f moves to f·factor)."""
    bins = a.shape[1]
    pos = np.clip(np.arange(bins) / factor, 0, bins - 1)
    i0 = np.minimum(np.floor(pos).astype(np.int64), bins - 2)
    w = (pos - i0)[None, :]
    return a[:, i0] * (1 - w) + a[:, i0 + 1] * w


def voice_shift(power: np.ndarray, pitch: float, formant: float, lifter: int = 24) -> np.ndarray:
    """Another voice from a power spectrogram (F, bins): harmonics scaled by ``pitch``, formants by ``formant``.

    Source-filter split by cepstral liftering: the first ``lifter`` cepstral coefficients are the vocal tract's
    envelope, the rest the source's harmonic fine structure. Scaling them apart turns a man's voice into a
    woman's or a child's (pitch ×1.6–2.2, formants ×1.15–1.3) and back, with the phone timing unchanged —
    vocal-tract-length and pitch augmentation at once. Works on the magnitude only, which is all Ψ reads.
    """
    logp = np.log(power.astype(np.float64) + 1e-10)
    cep = np.fft.irfft(logp, axis=1)
    lift = np.zeros(cep.shape[1])
    lift[:lifter] = 1.0
    lift[-(lifter - 1) :] = 1.0
    env = np.fft.rfft(cep * lift, axis=1).real
    fine = logp - env
    out = _warp_bins(env, formant) + _warp_bins(fine, pitch)
    return np.exp(out).astype(np.float32)
