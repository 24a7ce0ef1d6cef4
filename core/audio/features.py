"""Per-frame speech features at any frame rate.

Log-mel spectra at 100 Hz are cut into one window per animation frame. Frame t covers audio time
[t/fps, (t+1)/fps); its window follows the paper's context x_{t-3..t+4} at 25 fps, i.e. from
0.12 s before the frame's start to 0.20 s after it (0.32 s), whatever the scene's frame rate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from core.audio.decode import SAMPLE_RATE


@dataclass(frozen=True)
class FeatureConfig:
    """Audio feature settings (saved inside every checkpoint that consumes them)."""

    sample_rate: int = SAMPLE_RATE
    n_fft: int = 512
    win_length: int = 400  # 25 ms
    hop_length: int = 160  # 10 ms → 100 feature frames per second
    n_mels: int = 80
    f_min: float = 55.0
    f_max: float = 7600.0
    context_before_s: float = 0.12  # 3 frames at 25 fps
    context_after_s: float = 0.20  # frame t itself + 4 frames at 25 fps
    floor: float = 1e-5

    @property
    def rate(self) -> float:
        """Feature frames per second."""
        return self.sample_rate / self.hop_length

    @property
    def window_frames(self) -> int:
        return int(round((self.context_before_s + self.context_after_s) * self.rate))

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def frame_count(duration_s: float, fps: float) -> int:
    """T = ceil(duration × fps): the number of animation frames for a clip (at least 1)."""
    return max(1, math.ceil(duration_s * fps - 1e-9))


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + f / 700.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


@lru_cache(maxsize=8)
def mel_filterbank(cfg: FeatureConfig) -> np.ndarray:
    """Triangular HTK-style mel filters (n_mels, n_fft//2 + 1), area-normalised."""
    n_bins = cfg.n_fft // 2 + 1
    freqs = np.linspace(0.0, cfg.sample_rate / 2, n_bins)
    mels = np.linspace(_hz_to_mel(np.array(cfg.f_min)), _hz_to_mel(np.array(cfg.f_max)), cfg.n_mels + 2)
    edges = _mel_to_hz(mels)
    fb = np.zeros((cfg.n_mels, n_bins), dtype=np.float32)
    for i in range(cfg.n_mels):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        fb[i] = np.maximum(0.0, np.minimum(up, down)) * (2.0 / (hi - lo))
    return fb


def power_spectrogram(samples: np.ndarray, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """|STFT|² (F, n_fft//2 + 1) float32 at ``cfg.rate`` frames/s; frame i centred at i/rate (scipy's FFT in
    float32: half the time of numpy's, which works in float64)."""
    from scipy import fft

    x = np.asarray(samples, dtype=np.float32)
    pad = cfg.n_fft // 2
    x = np.pad(x, (pad, pad), mode="constant")
    n = 1 + max(0, (len(x) - cfg.n_fft) // cfg.hop_length)
    off = (cfg.n_fft - cfg.win_length) // 2
    window = np.hanning(cfg.win_length + 2)[1:-1].astype(np.float32)
    # the window is zero outside its win_length samples: FFT those (a strided view, no copy), zero-padded to n_fft
    frames = np.lib.stride_tricks.sliding_window_view(x, cfg.win_length)[off :: cfg.hop_length][:n]
    spec = fft.rfft(frames * window, n=cfg.n_fft, axis=1)
    return (spec.real**2 + spec.imag**2).astype(np.float32)


def mel_from_power(power: np.ndarray, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Power spectrogram (F, bins) → log-mel (F, n_mels) float32."""
    return np.log(power.astype(np.float32) @ mel_filterbank(cfg).T + cfg.floor).astype(np.float32)


def log_mel(samples: np.ndarray, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Log-mel spectrogram (F, n_mels) float32 at ``cfg.rate`` frames/s; frame i centred at i/rate."""
    return mel_from_power(power_spectrogram(samples, cfg), cfg)


def utterance_normalise(mel: np.ndarray, speech_share: float = 0.6) -> np.ndarray:
    """Subtract each band's mean over the utterance's speech (its loudest ``speech_share`` of frames).

    Removes what the microphone, the room's colour and the voice's average timbre add to every frame alike, so a
    phone call and a studio read the same. Silence is left out of the mean so that pauses do not shift it.
    """
    if len(mel) == 0:
        return mel
    energy = mel.mean(axis=1)
    keep = energy >= np.quantile(energy, 1.0 - speech_share)
    return (mel - mel[keep].mean(axis=0)).astype(np.float32)


def frame_windows(mel: np.ndarray, n_frames: int, fps: float, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Cut log-mel frames into one context window per animation frame.

    Args:
        mel: (F, n_mels) from ``log_mel``.
        n_frames: T, usually ``frame_count(duration, fps)``.
        fps: animation frame rate (any: 23.976, 24, 25, 29.97, 30, 50, 60...).

    Returns:
        (T, W, n_mels) float32, W = ``cfg.window_frames``; outside the audio the silence floor.
    """
    w = cfg.window_frames
    start = np.round((np.arange(n_frames) / fps - cfg.context_before_s) * cfg.rate).astype(np.int64)  # (T,)
    idx = start[:, None] + np.arange(w)[None, :]  # (T, W)
    floor = np.float32(np.log(cfg.floor))
    padded = np.concatenate([mel, np.full((1, mel.shape[1]), floor, np.float32)], axis=0)
    idx = np.where((idx < 0) | (idx >= len(mel)), len(mel), idx)
    return padded[idx]


def audio_windows(samples: np.ndarray, fps: float, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Decoded samples → (T, W, n_mels) windows with T = ceil(duration × fps)."""
    n = frame_count(len(samples) / cfg.sample_rate, fps)
    return frame_windows(log_mel(samples, cfg), n, fps, cfg)


def frame_energy(samples: np.ndarray, fps: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Log RMS energy per animation frame (T,), frame t over [t/fps, (t+1)/fps): a simple baseline signal."""
    n = frame_count(len(samples) / sample_rate, fps)
    edges = np.round(np.arange(n + 1) / fps * sample_rate).astype(np.int64)
    csum = np.concatenate([[0.0], np.cumsum(np.asarray(samples, np.float64) ** 2)])
    edges = np.clip(edges, 0, len(samples))
    counts = np.maximum(edges[1:] - edges[:-1], 1)
    power = (csum[edges[1:]] - csum[edges[:-1]]) / counts
    return np.log(power + 1e-10).astype(np.float32)


def normalise_loudness(samples: np.ndarray, target_rms: float = 0.1, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Scale so the loudest 20 % of 10 ms frames have RMS ``target_rms``: the same level from any microphone."""
    x = np.asarray(samples, np.float32)
    hop = sample_rate // 100
    n = len(x) // hop
    if n == 0:
        return x
    rms = np.sqrt((x[: n * hop].reshape(n, hop).astype(np.float64) ** 2).mean(axis=1))
    loud = np.sort(rms)[int(0.8 * n) :]
    level = float(np.sqrt((loud**2).mean())) if len(loud) else 0.0
    if level < 1e-6:
        return x
    return (x * (target_rms / level)).astype(np.float32)


def model_features(samples: np.ndarray, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """What Ψ and Φ read: the loudness-normalised log-mel (F, n_mels) of a clip."""
    return log_mel(normalise_loudness(samples, sample_rate=cfg.sample_rate), cfg)


def model_power(samples: np.ndarray, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """``model_features`` before the mel filters (for augmentations that work on the spectrum)."""
    return power_spectrogram(normalise_loudness(samples, sample_rate=cfg.sample_rate), cfg)
