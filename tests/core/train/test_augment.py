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
