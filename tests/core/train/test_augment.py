from __future__ import annotations

import numpy as np
import pytest

from core.train.augment import augment, band_limit, change_speed, coloured_noise, mix_at_snr, reverb
from tests.conftest import speechlike


@pytest.mark.parametrize("snr", [6.0, 18.0, 30.0])
def test_noise_is_mixed_at_the_requested_snr(snr: float) -> None:
    x = speechlike(2.0)
    rng = np.random.default_rng(0)
    noise = coloured_noise(len(x), "pink", rng)
    y = mix_at_snr(x, noise, snr)
    p = x.astype(np.float64) ** 2
    ps = p[p > 1e-3 * p.max()].mean()
    pn = ((y - x).astype(np.float64) ** 2).mean()
    assert 10 * np.log10(ps / pn) == pytest.approx(snr, abs=0.01)


def test_speed_reverb_band_limit_keep_the_signal_sane() -> None:
    x = speechlike(1.0)
    rng = np.random.default_rng(1)
    assert len(change_speed(x, 1.1)) == round(len(x) / 1.1)
    for y in (reverb(x, rng), band_limit(x, rng), augment(x, rng, [x], (6.0,), 0.0, 1.0, 1.0)):
        assert y.shape == x.shape and y.dtype == np.float32 and np.isfinite(y).all() and np.abs(y).max() > 0


def test_voice_shift_moves_pitch_and_formants_apart() -> None:
    from core.audio.features import power_spectrogram
    from core.train.augment import voice_shift

    t = np.arange(16000) / 16000
    x = sum(np.sin(2 * np.pi * 120 * k * t) * np.exp(-((120 * k - 700) / 300) ** 2) for k in range(1, 40))
    p = power_spectrogram(np.asarray(x, np.float32))
    mid = len(p) // 2
    f = np.fft.rfftfreq(512, 1 / 16000)

    def peak(spec: np.ndarray, lo: float, hi: float) -> float:
        band = (f > lo) & (f < hi)
        return float(f[band][np.argmax(spec[band])])

    same = voice_shift(p, 1.0, 1.0)
    np.testing.assert_allclose(same, p, rtol=1e-3, atol=1e-8)
    higher = voice_shift(p, 2.0, 1.0)[mid]
    assert abs(peak(higher, 180, 300) - 240) <= 32  # the first harmonic at 2 × 120 Hz
    env = lambda s: np.convolve(np.log(s + 1e-10), np.ones(15) / 15, "same")  # noqa: E731
    assert peak(env(voice_shift(p, 1.0, 1.25)[mid]), 300, 2000) > peak(env(p[mid]), 300, 2000) + 60  # formant up


def test_utterance_normalise_removes_a_channel() -> None:
    from core.audio.features import log_mel, utterance_normalise
    from tests.conftest import speechlike

    x = speechlike(3.0)
    mel = log_mel(x)
    tilted = mel + np.linspace(-2, 2, mel.shape[1])[None]  # a microphone with a strong tilt
    np.testing.assert_allclose(utterance_normalise(tilted), utterance_normalise(mel), atol=1e-4)
