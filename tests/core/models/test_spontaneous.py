"""Spontaneous motion: head style, conversational blinks, gaze and brows."""

from __future__ import annotations

import numpy as np

from core.face.arkit import INDEX
from core.models.spontaneous import (
    DEFAULT_STYLE,
    HeadStyle,
    Prosody,
    brows,
    conversational_blinks,
    gaze,
    gaze_weights,
    pitch_track,
    prosody,
    style_head,
)

FPS = 30.0


def speechy(seconds: float, seed: int = 0, f0: float = 140.0, vary: float = 0.25) -> np.ndarray:
    """Phrases of voiced sound (pitch moving by ``vary`` octaves) with pauses between them, 16 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    on = (np.sin(2 * np.pi * t / 3.0) > -0.3).astype(float)  # 2 s phrases, 1 s pauses
    syll = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2  # syllable-rate loudness
    pitch = f0 * 2 ** (vary * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(pitch) / 16000
    x = (np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.3 * np.sin(3 * phase)) * on * syll * 0.2
    return (x + rng.normal(0, 1e-4, len(x))).astype(np.float32)


def test_pitch_track_finds_the_pitch_and_silence() -> None:
    t = np.arange(16000) / 16000
    f0 = pitch_track(np.sin(2 * np.pi * 150 * t).astype(np.float32), 30, FPS)
    assert np.median(f0[2:-2]) == np.float64(np.median(f0[2:-2])) and abs(np.median(f0[2:-2]) - 150) < 5
    assert (pitch_track(np.zeros(16000, np.float32), 30, FPS) == 0).all()


def test_head_gets_the_styles_spread_and_speed_and_never_drifts() -> None:
    n = int(180 * FPS)  # three minutes
    audio = speechy(180)
    pr = prosody(audio, n, FPS)
    phi = np.random.default_rng(0).normal(0, 0.01, (n, 6)).astype(np.float32)  # whatever Φ gives
    pose = style_head(phi, pr, FPS, DEFAULT_STYLE, 1.0, seed=3)
    got = HeadStyle.measure(pose, FPS)
    for a in range(3):
        assert 0.9 < got.rot_std[a] / DEFAULT_STYLE.rot_std[a] < 1.1
        assert 0.7 < got.rot_speed[a] / DEFAULT_STYLE.rot_speed[a] < 1.3
    minute_means = np.degrees(pose[: 3 * int(60 * FPS), :3]).reshape(3, -1, 3).mean(1)
    assert np.abs(minute_means).max() < 1.5  # degrees: no drift from minute to minute
    speed = np.abs(np.diff(np.degrees(pose[:, :3]), axis=0)).sum(1)
    assert speed[pr.speech[1:]].mean() > 1.5 * speed[~pr.speech[1:]].mean()  # stiller in pauses
    assert (style_head(phi, pr, FPS, DEFAULT_STYLE, 0.0) == 0).all()
    half = style_head(phi, pr, FPS, DEFAULT_STYLE, 0.5, seed=3)
    assert np.allclose(half, 0.5 * pose, atol=1e-6)


def test_a_reference_style_is_followed() -> None:
    n = int(60 * FPS)
    pr = prosody(speechy(60, 1), n, FPS)
    calm = HeadStyle((1.0, 1.5, 0.8), (3.0, 4.0, 2.0), (2.0, 2.0, 3.0))
    got = HeadStyle.measure(style_head(np.zeros((n, 6), np.float32), pr, FPS, calm, seed=1), FPS)
    assert all(0.9 < g / w < 1.1 for g, w in zip(got.rot_std, calm.rot_std, strict=True))
    assert all(0.7 < g / w < 1.3 for g, w in zip(got.rot_speed, calm.rot_speed, strict=True))


def test_blinks_at_the_asked_rate_more_in_pauses_both_eyes() -> None:
    n = int(600 * FPS)
    speech = (np.sin(2 * np.pi * np.arange(n) / FPS / 4.0) > -0.2)  # phrases and pauses
    profile = np.sin(np.linspace(0, np.pi, 16))
    b = conversational_blinks(n, FPS, speech, profile, [0.2, 0.25], rate_per_min=17.0, seed=4)
    onsets = np.where((b[1:, 0] > 0.5) & (b[:-1, 0] <= 0.5))[0] + 1
    assert 13 < len(onsets) / 10 < 21
    in_pause = (~speech[onsets]).mean()
    assert in_pause > (~speech).mean() + 0.1  # placed more in pauses than the pauses' share of time
    assert np.corrcoef(b[:, 0], b[:, 1])[0, 1] > 0.8  # the eyes close together
    assert conversational_blinks(n, FPS, speech, profile, [0.2], rate_per_min=0.0).max() == 0
    again = conversational_blinks(n, FPS, speech, profile, [0.2, 0.25], rate_per_min=17.0, seed=4)
    assert np.array_equal(b, again)  # a seed is a take


def test_gaze_modes() -> None:
    n = int(20 * FPS)
    blink = np.zeros((n, 2))
    pose = np.zeros((n, 6))
    pose[:, 1] = np.radians(10) * np.sin(np.arange(n) / FPS)
    free = gaze(n, FPS, blink, pose, "free", seed=1)
    assert np.abs(free).max() > 2 and len(np.unique(np.round(free[:, 0], 3))) > 10  # it looks around
    assert (np.abs(np.diff(free[:, 0])) < 1e-9).mean() > 0.6  # mostly fixations
    cam = gaze(n, FPS, blink, pose, "camera", seed=1)
    assert np.corrcoef(cam[:, 0], -np.degrees(pose[:, 1]))[0, 1] > 0.9  # the eyes counter the head's turn
    assert (gaze(n, FPS, blink, pose, "off") == 0).all()
    w = gaze_weights(np.array([[10.0, 0.0], [0.0, -10.0]]))
    assert w[0, INDEX["eyeLookOutLeft"]] > 0 and w[0, INDEX["eyeLookInRight"]] > 0 and w[0, INDEX["eyeLookInLeft"]] == 0
    assert w[1, INDEX["eyeLookDownLeft"]] > 0 and w[1, INDEX["eyeLookUpRight"]] == 0


def test_brows_rise_on_pitch_accents_and_not_on_a_flat_voice() -> None:
    n = int(30 * FPS)
    lively = brows(prosody(speechy(30, 2, vary=0.5), n, FPS), n, FPS, seed=0)
    assert lively[:, INDEX["browInnerUp"]].max() > 0.1
    assert (lively[:, INDEX["browInnerUp"]] > 0.05).mean() < 0.4  # small and sparse
    flat = Prosody(np.zeros(n), np.full(n, 120.0), np.ones(n, bool), np.array([30, 90]), np.ones(2), np.zeros(2))
    assert brows(flat, n, FPS).max() == 0


def test_the_leaky_integral_is_the_first_order_filter() -> None:
    from core.models.spontaneous import leaky_integral

    rng = np.random.default_rng(0)
    for fps, n in [(1.0, 700), (30.0, 1000), (240.0, 3000)]:
        x, leak = rng.standard_normal((n, 3)), float(np.exp(-1.0 / (3.0 * fps)))
        want = np.zeros_like(x)
        acc = np.zeros(3)
        for t in range(n):
            acc = leak * acc + x[t]
            want[t] = acc
        np.testing.assert_allclose(leaky_integral(x, leak), want, atol=1e-9)
