"""The live engine: streaming features equal the offline ones, frames come out whole and in order whatever the
block size, never before their look-ahead is heard, with flat memory, and the mouth follows the offline take."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.decode import load_audio
from core.audio.features import frame_count, log_mel
from core.live.engine import LiveEngine, StreamingMel
from core.live.run import load_live
from core.live.spontaneous import LiveBlinks
from core.reference import face_reference
from tests.conftest import REPO, speechlike

DEMO_VOICE = REPO / "core" / "assets" / "demo_voice.flac"


@pytest.fixture(scope="module")
def net():  # type: ignore[no-untyped-def]
    return load_live()


@pytest.fixture(scope="module")
def face():  # type: ignore[no-untyped-def]
    return face_reference(None)


@pytest.mark.parametrize("block", [1, 160, 333, 4000])
def test_streaming_mel_is_the_offline_mel(block: int) -> None:
    x = speechlike(1.3, seed=3).astype(np.float32)
    s = StreamingMel()
    got = np.concatenate([s.feed(x[i : i + block]) for i in range(0, len(x), block)])
    ref = log_mel(x)
    assert len(ref) - 3 <= len(got) < len(ref)  # the last frames wait for samples after the end
    np.testing.assert_allclose(got, ref[: len(got)], atol=1e-4)
    assert len(s.buf) < 1000  # only what the next frame needs is kept


def frames_of(engine: LiveEngine, x: np.ndarray, block: int) -> list:  # type: ignore[type-arg]
    out = []
    for i in range(0, len(x), block):
        out += engine.feed(x[i : i + block])
    return out + engine.finish()


def test_every_frame_once_in_order_whatever_the_block(net, face) -> None:  # type: ignore[no-untyped-def]
    x = speechlike(2.0, seed=1).astype(np.float32)
    a = frames_of(LiveEngine(net, face, fps=30.0), x, 320)
    b = frames_of(LiveEngine(net, face, fps=30.0), x, 1234)
    n = frame_count(len(x) / 16000, 30.0)
    assert [f.frame for f in a] == list(range(n)) == [f.frame for f in b]
    assert a[-1].t == pytest.approx(n / 30.0, abs=1e-4) and a[0].t == pytest.approx(1 / 30.0, abs=1e-4)
    for f, g in zip(a, b, strict=True):
        assert f.arkit.shape == (52,) and f.pose.shape == (6,) and f.blink.shape == (2,)
        assert np.all((f.arkit >= 0) & (f.arkit <= 1)) and np.isfinite(f.pose).all()
        np.testing.assert_allclose(f.arkit, g.arkit, atol=1e-4)
        np.testing.assert_allclose(f.pose, g.pose, atol=1e-5)


def test_a_frame_waits_for_its_look_ahead_and_no_longer(net, face) -> None:  # type: ignore[no-untyped-def]
    x = speechlike(1.5, seed=2).astype(np.float32)
    e = LiveEngine(net, face, fps=30.0)
    fed = 0
    for i in range(0, len(x), 160):
        got = e.feed(x[i : i + 160])
        fed += len(x[i : i + 160])
        for f in got:  # written only once the audio to its start + look-ahead (+ the last mel half-window) is in
            need = (f.frame / 30.0 + net.cfg.lookahead_s) * 16000 + 200
            assert fed >= need - 160
            assert fed < need + 2 * 160 + 16000 / 30.0  # and not held back longer than a block and a frame
            assert fed >= f.t * 16000 - 1  # its own audio is all in


def test_memory_stays_flat_over_a_long_stream(net, face) -> None:  # type: ignore[no-untyped-def]
    e = LiveEngine(net, face, fps=30.0)
    x = speechlike(4.0, seed=4).astype(np.float32)
    sizes = []
    for k in range(8):  # 32 s
        e.feed(x)
        sizes.append((len(e.window), len(e.samples), len(e.mel.buf)))
        if k:
            assert sizes[-1] == sizes[1] or max(sizes[-1]) < 2000
    assert max(max(s) for s in sizes) < 2000


def test_the_live_mouth_follows_the_offline_take(net, face) -> None:  # type: ignore[no-untyped-def]
    from core.animate import animate
    from core.face.arkit import ARKIT_NAMES

    audio = load_audio(DEMO_VOICE)
    offline = animate(audio, face).arkit[:, ARKIT_NAMES.index("jawOpen")]
    live = frames_of(LiveEngine(net, face, fps=30.0), audio.samples, 320)
    jaw = np.array([f.arkit[ARKIT_NAMES.index("jawOpen")] for f in live])
    assert len(jaw) == len(offline)
    r = float(np.corrcoef(jaw, offline)[0, 1])
    assert r >= 0.7, r  # bench_live measures it properly; this guards against a broken stream


def test_live_blinks_keep_the_asked_rate() -> None:
    profile = np.array([0.0, 0.5, 1.0, 0.6, 0.2, 0.0])
    b = LiveBlinks(30.0, profile, [0.2, 0.3], 20.0, seed=0)
    speech = (np.arange(30 * 600) // 45) % 4 != 3  # 1.5 s phrases with 0.5 s pauses, ten minutes
    closed = np.array([b.step(bool(s)).mean() for s in speech])
    onsets = int(((closed[1:] > 0.5) & (closed[:-1] <= 0.5)).sum())
    assert 120 <= onsets <= 280  # 20 a minute for ten minutes, give or take the draw and the refractory gap


def _prosody_stream(accents: list[int], n: int = 240) -> list[tuple[float, float, bool]]:
    """(F0 Hz, log energy, speech) per frame of a steady 120 Hz voice, with a pitch accent (+6 semitones, louder)
    over three frames at each of ``accents``."""
    out = []
    for t in range(n):
        near = any(abs(t - a) <= 1 for a in accents)
        out.append((120.0 * 2 ** (0.5 if near else 0.0), -3.0 + (1.5 if near else 0.0), True))
    return out


def test_live_brows_rise_just_after_each_accent_they_take_and_never_on_a_flat_voice() -> None:
    from core.face.arkit import INDEX
    from core.live.spontaneous import LiveBrows

    accents = [45, 75, 105, 135, 165, 195, 225]
    b = LiveBrows(30.0, seed=3)
    got = np.stack([b.step(*f) for f in _prosody_stream(accents)])
    inner = got[:, INDEX["browInnerUp"]]
    assert len(b.onsets) >= 2  # the accents well over the median raise the brows (not every one)
    for accent, start, amp in b.onsets:
        assert accent in accents and 0 < (start - accent) / 30.0 <= 0.15  # heard, then raised at once
        assert 0.1 <= amp <= 0.45
        peak = start + int(np.argmax(inner[start : start + 10]))
        assert abs(inner[peak] - amp) < 0.02 and (peak - accent) / 30.0 <= 0.3
    outer = got[:, INDEX["browOuterUpLeft"]]
    assert np.allclose(outer, 0.6 * inner, atol=1e-6)
    others = np.delete(got, [INDEX[k] for k in ("browInnerUp", "browOuterUpLeft", "browOuterUpRight")], axis=1)
    assert not others.any()
    flat = LiveBrows(30.0, seed=3)
    assert not np.stack([flat.step(*f) for f in _prosody_stream([])]).any()
    off = LiveBrows(30.0, seed=3, enabled=False)
    assert not np.stack([off.step(*f) for f in _prosody_stream(accents)]).any()


def test_the_live_engine_raises_the_brows_on_the_voice_s_accents_when_asked(net, face) -> None:  # type: ignore[no-untyped-def]
    from core.face.arkit import INDEX
    from core.models.spontaneous import prosody
    from core.take import Spontaneous

    x = load_audio(DEMO_VOICE).samples[: 16000 * 6]

    def run(brows: bool) -> tuple[np.ndarray, LiveEngine]:
        e = LiveEngine(net, face, fps=30.0, spontaneous=Spontaneous(brows=brows), seed=1)
        frames = e.feed(x) + e.finish()
        return np.stack([f.arkit for f in frames]), e

    on, engine = run(True)
    off, _ = run(False)
    assert (on >= off - 1e-6).all()  # a raise only adds
    inner = INDEX["browInnerUp"]
    assert (on[:, inner] - off[:, inner]).max() > 0.1
    accents = prosody(x, len(on), 30.0).accents  # the offline accents of the same voice
    for accent, start, _ in engine.brows.onsets:  # each live raise follows one of them, within 0.3 s
        assert np.any((start - accents >= 0) & (start - accents <= 9)), (accent, start, accents)
