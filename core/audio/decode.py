"""Decode audio (WAV, FLAC, OGG, MP3, M4A, and the sound of MP4/MOV/MKV) to mono 16 kHz float32.

libsndfile (through soundfile) reads what it can; everything else goes through the ffmpeg binary
that the ``imageio-ffmpeg`` wheel carries. Every way a file can be unusable has its own one-line
``AudioDecodeError``.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

from core.errors import AudioDecodeError

SAMPLE_RATE = 16_000
DEFAULT_MAX_SECONDS = 600.0
MIN_SOURCE_RATE = 4_000
MAX_SOURCE_RATE = 384_000
MAX_CHANNELS = 32
#: Peak level under which a file counts as silent (−60 dBFS).
SILENCE_PEAK = 1e-3
#: Fraction of the declared duration that must decode; less means the file is truncated.
MIN_DECODED_FRACTION = 0.9
#: ffmpeg is stopped after this long reading a file's header, and after ``DECODE_TIMEOUT_S`` + a fifth of a second
#: per second of the length limit decoding it (a 10-minute file decodes in about a second): a file that hangs ffmpeg
#: must not pin a worker past the server's job timeout.
PROBE_TIMEOUT_S = 30.0
DECODE_TIMEOUT_S = 60.0


@dataclass
class Audio:
    """Decoded audio: mono float32 samples at ``sample_rate``."""

    samples: np.ndarray  # (N,) float32 in [-1, 1]
    sample_rate: int
    source_rate: int
    source_channels: int
    source: str

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


@dataclass
class _Probe:
    duration: float | None
    audio_rate: int | None
    audio_channels: int | None
    has_audio: bool
    has_video: bool
    readable: bool
    truncated: bool
    is_image: bool = False


_CHANNEL_WORDS = {"mono": 1, "stereo": 2, "quad": 4, "5.1": 6, "5.1(side)": 6, "7.1": 8}


def _run(cmd: list[str], path: Path, timeout: float, what: str,
         text: bool = False) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """ffmpeg under a time limit; one that overruns is killed and the file refused."""
    try:
        if text:
            return subprocess.run(cmd, capture_output=True, timeout=timeout, text=True, errors="replace")
        return subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AudioDecodeError(f"{path}: ffmpeg was still {what} after {timeout:g} s; the file is damaged or not "
                               "a recording") from None


def _probe(path: Path) -> _Probe:
    proc = _run([_ffmpeg(), "-hide_banner", "-i", str(path)], path, PROBE_TIMEOUT_S, "reading its header", text=True)
    err = proc.stderr
    dur = None
    m = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", err)
    if m:
        dur = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    audio_lines = re.findall(r"Stream #\S+.*?: Audio: (.*)", err)
    rate = chans = None
    if audio_lines:
        m = re.search(r"(\d+) Hz", audio_lines[0])
        rate = int(m.group(1)) if m else None
        m = re.search(r"Hz, ([^,]+)", audio_lines[0])
        if m:
            word = m.group(1).strip()
            m2 = re.match(r"(\d+) channels", word)
            chans = int(m2.group(1)) if m2 else _CHANNEL_WORDS.get(word, 2)
    has_video = bool(re.search(r"Stream #\S+.*?: Video:", err))
    fmt = re.search(r"Input #0, ([\w,]+),", err)
    is_image = bool(fmt and (fmt.group(1).endswith("_pipe") or fmt.group(1).startswith("image2")))
    readable = "Input #0" in err and "Invalid data found" not in err
    truncated = "moov atom not found" in err
    return _Probe(dur, rate, chans, bool(audio_lines), has_video, readable, truncated, is_image)


def _check_source(
    path: Path, rate: int | None, channels: int | None, duration: float | None, max_seconds: float
) -> None:
    if rate is not None and not (MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE):
        raise AudioDecodeError(
            f"{path}: sample rate {rate} Hz is outside the supported {MIN_SOURCE_RATE}–{MAX_SOURCE_RATE} Hz"
        )
    if channels is not None and not (1 <= channels <= MAX_CHANNELS):
        raise AudioDecodeError(f"{path}: {channels} audio channels is outside the supported 1–{MAX_CHANNELS}")
    if duration is not None and duration > max_seconds:
        raise AudioDecodeError(
            f"{path}: audio is {duration / 60:.1f} min long, over the {max_seconds / 60:.1f} min limit "
            "(split it into shorter files)"
        )


def _to_mono_16k(data: np.ndarray, rate: int) -> np.ndarray:
    mono = data.mean(axis=1) if data.ndim == 2 else data
    mono = mono.astype(np.float32)
    if rate != SAMPLE_RATE:
        from scipy.signal import resample_poly  # only for audio not at 16 kHz: the import costs a second

        g = gcd(rate, SAMPLE_RATE)
        mono = resample_poly(mono, SAMPLE_RATE // g, rate // g).astype(np.float32)
    return np.clip(mono, -1.0, 1.0)


def _wav_declared_frames(path: Path) -> int | None:
    """Frames a RIFF/WAVE header promises, or None when it is not a plain WAV."""
    with path.open("rb") as f:
        head = f.read(4096)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, block = 12, None
    while pos + 8 <= len(head):
        cid, size = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
        if cid == b"fmt " and pos + 22 <= len(head):
            block = int.from_bytes(head[pos + 20 : pos + 22], "little")
        if cid == b"data":
            if size in (0, 0xFFFFFFFF) or not block:
                return None  # streamed WAV: no declared length
            return size // block
        pos += 8 + size + (size & 1)
    return None


def _mp3_declared_bytes(path: Path) -> tuple[int, int] | None:
    """(bytes the Xing/Info header promises, bytes present after the ID3 tag), or None without such a header."""
    with path.open("rb") as f:
        head = f.read(16384)
    start = 0
    if head[:3] == b"ID3" and len(head) >= 10:
        start = 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])
    for tag in (b"Xing", b"Info"):
        pos = head.find(tag, start, start + 200) if start < len(head) else -1
        if pos >= 0 and pos + 16 <= len(head):
            flags = int.from_bytes(head[pos + 4 : pos + 8], "big")
            off = pos + 8 + (4 if flags & 1 else 0)
            if flags & 2 and off + 4 <= len(head):
                return int.from_bytes(head[off : off + 4], "big"), path.stat().st_size - start
    return None


def _decode_soundfile(path: Path, max_seconds: float) -> Audio | None:
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return None
    if info.format in ("MPEG", "MP3") or path.suffix.lower() == ".mp3":  # ffmpeg checks MP3 damage better
        return None
    rate, chans = int(info.samplerate), int(info.channels)
    _check_source(path, rate, chans, info.frames / rate if rate else None, max_seconds)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioDecodeError(f"{path}: the audio data is damaged or truncated ({exc})") from exc
    declared = _wav_declared_frames(path) if info.format == "WAV" else None
    if declared is not None and len(data) < MIN_DECODED_FRACTION * declared:
        raise AudioDecodeError(
            f"{path}: the file is truncated: its header promises {declared / rate:.2f} s but only "
            f"{len(data) / rate:.2f} s are there"
        )
    return Audio(_to_mono_16k(data, rate), SAMPLE_RATE, rate, chans, str(path))


def _decode_ffmpeg(path: Path, max_seconds: float) -> Audio:
    probe = _probe(path)
    declared = _mp3_declared_bytes(path) if path.suffix.lower() == ".mp3" else None
    if probe.truncated or (declared is not None and declared[1] < MIN_DECODED_FRACTION * declared[0]):
        raise AudioDecodeError(f"{path}: the file is truncated or damaged (its MP4/M4A index is missing)")
    if not probe.readable:
        raise AudioDecodeError(f"{path}: not an audio or video file Parley can read")
    if not probe.has_audio:
        if probe.is_image:
            raise AudioDecodeError(f"{path}: this is an image, not audio: give a voice recording (WAV, MP3, FLAC…)")
        if probe.has_video:
            raise AudioDecodeError(f"{path}: the video has no audio stream")
        raise AudioDecodeError(f"{path}: the file has no audio stream")
    _check_source(path, probe.audio_rate, probe.audio_channels, probe.duration, max_seconds)
    cmd = [_ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn",
           "-ac", "1", "-ar", str(SAMPLE_RATE), "-t", str(max_seconds + 1), "-f", "f32le", "pipe:1"]
    proc = _run(cmd, path, DECODE_TIMEOUT_S + 0.2 * max_seconds, "decoding it")
    samples = np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)
    errors = proc.stderr.decode(errors="replace").strip()
    if proc.returncode != 0 and len(samples) == 0:
        first = errors.splitlines()[-1] if errors else "ffmpeg failed"
        raise AudioDecodeError(f"{path}: the audio could not be decoded ({first})")
    decoded = len(samples) / SAMPLE_RATE
    if probe.duration and decoded < MIN_DECODED_FRACTION * probe.duration - 0.05:
        raise AudioDecodeError(
            f"{path}: the file is truncated or damaged: {probe.duration:.2f} s declared, {decoded:.2f} s decodable"
        )
    if errors and len(samples) == 0:
        raise AudioDecodeError(f"{path}: the audio data is damaged ({errors.splitlines()[-1]})")
    return Audio(
        np.clip(samples, -1.0, 1.0), SAMPLE_RATE, probe.audio_rate or SAMPLE_RATE, probe.audio_channels or 1, str(path)
    )


def load_audio(path: str | Path, max_seconds: float = DEFAULT_MAX_SECONDS, allow_silence: bool = False) -> Audio:
    """Decode a file to mono 16 kHz float32.

    Args:
        path: any audio file, or a video with a sound track.
        max_seconds: longest accepted duration (default 10 minutes).
        allow_silence: accept files that are silent throughout.

    Raises:
        AudioDecodeError: with one line saying what is wrong (empty, truncated, not audio, no audio
            stream, silence only, too long, unsupported rate or channel count).
    """
    path = Path(path)
    if not path.exists():
        raise AudioDecodeError(f"{path}: no such file")
    if path.is_dir():
        raise AudioDecodeError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: the file is empty (0 bytes)")
    audio = _decode_soundfile(path, max_seconds)
    if audio is None:
        audio = _decode_ffmpeg(path, max_seconds)
    if len(audio.samples) == 0:
        raise AudioDecodeError(f"{path}: the file holds no audio samples")
    if audio.duration > max_seconds:
        raise AudioDecodeError(
            f"{path}: audio is {audio.duration / 60:.1f} min long, over the {max_seconds / 60:.1f} min limit"
        )
    if not np.isfinite(audio.samples).all():
        raise AudioDecodeError(f"{path}: the audio holds invalid (NaN or infinite) samples")
    if not allow_silence and float(np.abs(audio.samples).max()) < SILENCE_PEAK:
        raise AudioDecodeError(f"{path}: the audio is silent throughout (peak under −60 dBFS)")
    return audio
