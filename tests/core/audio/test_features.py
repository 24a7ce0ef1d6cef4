from __future__ import annotations

import numpy as np
import pytest

from core.audio.features import FeatureConfig, audio_windows, frame_count, frame_energy, log_mel
from tests.conftest import speechlike

FPS = [23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 60.0]


@pytest.mark.parametrize("fps", FPS)
def test_windows_per_frame_at_any_fps(fps: float) -> None:
    x = speechlike(seconds=2.5)
    win = audio_windows(x, fps)
    cfg = FeatureConfig()
    assert win.shape == (frame_count(2.5, fps), cfg.window_frames, cfg.n_mels)
    assert win.shape[0] == int(np.ceil(2.5 * fps))
    assert np.isfinite(win).all()


def test_frame_count_is_ceil() -> None:
    assert frame_count(1.0, 25) == 25
    assert frame_count(1.01, 25) == 26
    assert frame_count(0.001, 30) == 1


def test_window_spans_paper_context() -> None:
    cfg = FeatureConfig()
    # x_{t-3..t+4} at 25 fps = 8 frames = 0.32 s = 32 feature frames at 100 Hz
    assert cfg.window_frames == 32


def test_window_aligns_with_time() -> None:
    """A click at 1.0 s shows up in frame t=25's window at offset 0.12 s (12 feature frames) at 25 fps."""
    x = np.zeros(32000, np.float32)
    x[16000:16080] = 0.9
    mel = log_mel(x)
    win = audio_windows(x, 25.0)
    energy = win[25].mean(axis=1)
    assert abs(int(np.argmax(energy)) - 12) <= 1
    assert np.argmax(mel.mean(axis=1)) == pytest.approx(100, abs=1)


def test_frame_energy_tracks_loudness() -> None:
    x = np.concatenate([np.zeros(8000), 0.5 * np.ones(8000)]).astype(np.float32)
    e = frame_energy(x, 10.0)
    assert e.shape == (10,)
    assert e[:5].max() < e[5:].min()
