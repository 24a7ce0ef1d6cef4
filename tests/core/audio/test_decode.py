from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.audio.decode import SAMPLE_RATE, load_audio
from core.errors import AudioDecodeError
from tests.conftest import ffmpeg, speechlike


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3", "m4a", "mp4", "mov", "mkv"])
def test_formats_decode_to_mono_16k(tmp_path: Path, wav_path: Path, fmt: str) -> None:
    out = tmp_path / f"clip.{fmt}"
    if fmt in ("wav", "flac", "ogg"):
        stereo = np.stack([speechlike(seconds=2.0, rate=44100)] * 2, axis=1)
        sf.write(out, stereo, 44100)
    elif fmt in ("mp3", "m4a"):
        ffmpeg("-i", str(wav_path), str(out))
    else:
        ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=64x64:r=25", "-i", str(wav_path), "-shortest",
               "-c:v", "mpeg4", "-c:a", "aac", str(out))
    audio = load_audio(out)
    assert audio.sample_rate == SAMPLE_RATE
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert abs(audio.duration - 2.0) < 0.1
    assert np.isfinite(audio.samples).all() and np.abs(audio.samples).max() > 0.1


def _expect(path: Path, fragment: str, **kw: float) -> None:
    with pytest.raises(AudioDecodeError) as err:
        load_audio(path, **kw)
    msg = str(err.value)
    assert fragment in msg and str(path) in msg and "\n" not in msg


def test_missing_file(tmp_path: Path) -> None:
    _expect(tmp_path / "nope.wav", "no such file")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    _expect(p, "empty (0 bytes)")


def test_truncated_wav(tmp_path: Path, wav_path: Path) -> None:
    p = tmp_path / "cut.wav"
    p.write_bytes(wav_path.read_bytes()[: wav_path.stat().st_size // 3])
    _expect(p, "truncated")


def test_truncated_m4a(tmp_path: Path, wav_path: Path) -> None:
    full = tmp_path / "full.m4a"
    ffmpeg("-i", str(wav_path), str(full))
    p = tmp_path / "cut.m4a"
    p.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    _expect(p, "truncated")


def test_truncated_mp3(tmp_path: Path, wav_path: Path) -> None:
    full = tmp_path / "full.mp3"
    long = tmp_path / "long.wav"
    sf.write(long, speechlike(seconds=6.0), 16000)
    ffmpeg("-i", str(long), "-b:a", "64k", str(full))
    p = tmp_path / "cut.mp3"
    p.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    _expect(p, "truncated")


def test_not_audio(tmp_path: Path) -> None:
    p = tmp_path / "notes.mp3"
    p.write_text("these are my notes, not a sound file\n" * 50)
    _expect(p, "not an audio")


def test_video_without_audio(tmp_path: Path) -> None:
    p = tmp_path / "silent_film.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=64x64:r=25:d=1", "-c:v", "mpeg4", str(p))
    _expect(p, "no audio stream")


def test_silence_only(tmp_path: Path) -> None:
    p = tmp_path / "quiet.wav"
    sf.write(p, np.zeros(16000, np.float32), 16000)
    _expect(p, "silent")
    assert load_audio(p, allow_silence=True).duration == pytest.approx(1.0)


def test_too_long(tmp_path: Path) -> None:
    p = tmp_path / "long.wav"
    sf.write(p, speechlike(seconds=3.0), 16000)
    _expect(p, "over the", max_seconds=2.0)


def test_too_long_compressed_is_refused_before_decoding(tmp_path: Path, wav_path: Path) -> None:
    p = tmp_path / "long.m4a"
    ffmpeg("-i", str(wav_path), str(p))
    _expect(p, "over the", max_seconds=1.0)


@pytest.mark.parametrize("rate", [1000, 500_000])
def test_absurd_sample_rate(tmp_path: Path, rate: int) -> None:
    p = tmp_path / f"rate{rate}.wav"
    sf.write(p, speechlike(seconds=0.5, rate=8000)[: rate // 2], rate)
    _expect(p, "sample rate")


def test_absurd_channel_count(tmp_path: Path) -> None:
    p = tmp_path / "many.wav"
    sf.write(p, np.tile(speechlike(seconds=0.5)[:, None], (1, 40)), 16000)
    _expect(p, "channels")


def test_folder_is_refused(tmp_path: Path) -> None:
    _expect(tmp_path, "folder")


def test_a_file_that_hangs_ffmpeg_is_refused_in_time(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """ffmpeg runs under a time limit: a file that makes it hang never pins the caller."""
    import time

    import core.audio.decode as D

    hang = tmp_path / "ffmpeg"
    hang.write_text("#!/bin/sh\nsleep 30\n")
    hang.chmod(0o755)
    monkeypatch.setattr(D, "_ffmpeg", lambda: str(hang))
    monkeypatch.setattr(D, "PROBE_TIMEOUT_S", 0.5)
    f = tmp_path / "odd.m4a"
    f.write_bytes(b"\0" * 1000)
    t0 = time.perf_counter()
    with pytest.raises(D.AudioDecodeError, match="ffmpeg was still reading its header after 0.5 s"):
        D.load_audio(f)
    assert time.perf_counter() - t0 < 5
