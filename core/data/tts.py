"""Synthetic speech with each phone's timing, from Debian's festival and flite voices (and espeak-ng, untimed).

Used by the closure benchmark (``benchmarks/bench_closures.py``) and by tests: the engine knows when it says
each phone, so "do the lips close on /p b m/" can be checked without a human transcriber. Phones are CMU/radio
names (``aa``, ``b``, ``m``, ``pau``…) as both engines print them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio.decode import load_audio
from core.errors import ParleyError

#: voice id → (engine, the engine's voice name, sex). festival voices come from Debian's festvox-* packages.
VOICES: dict[str, tuple[str, str, str]] = {
    "festival:kal": ("festival", "voice_kal_diphone", "male"),
    "festival:slt": ("festival", "voice_cmu_us_slt_arctic_hts", "female"),
    "flite:kal": ("flite", "kal16", "male"),
    "flite:awb": ("flite", "awb", "male"),
    "flite:rms": ("flite", "rms", "male"),
    "flite:slt": ("flite", "slt", "female"),
}

BILABIALS = frozenset({"p", "b", "m"})
OPEN_VOWELS = frozenset({"aa", "ae", "ao", "aw", "ay"})


@dataclass
class Phone:
    name: str
    start: float  # seconds
    end: float


@dataclass
class Utterance:
    samples: np.ndarray  # (N,) float32, 16 kHz mono
    phones: list[Phone]
    voice: str
    text: str


def available(voice: str) -> bool:
    """True when the voice's engine (and, for festival, the voice package) is installed."""
    engine, name, _ = VOICES[voice]
    if shutil.which(engine) is None:
        return False
    if engine == "festival":
        folder = {"voice_kal_diphone": "english/kal_diphone", "voice_cmu_us_slt_arctic_hts": "us/cmu_us_slt_arctic_hts"}
        return (Path("/usr/share/festival/voices") / folder[name]).is_dir()
    return True


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9 ,.'?!-]", " ", text).strip()


def _festival(text: str, voice: str, wav: Path, segs: Path) -> list[Phone]:
    script = wav.with_suffix(".scm")
    script.write_text(f'({voice})\n(set! utt (Utterance Text "{_clean(text)}"))\n(utt.synth utt)\n'
                      f'(utt.save.wave utt "{wav}" \'riff)\n(utt.save.segs utt "{segs}")\n')  # fmt: skip
    subprocess.run(["festival", "-b", str(script)], check=True, capture_output=True, timeout=60)
    phones, start = [], 0.0
    for line in segs.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] != "#":
            end = float(parts[0])
            phones.append(Phone(parts[2], start, end))
            start = end
    return phones


def _flite(text: str, voice: str, wav: Path) -> list[Phone]:
    out = subprocess.run(["flite", "-voice", voice, "-psdur", "-t", _clean(text), "-o", str(wav)],
                         check=True, capture_output=True, text=True, timeout=60).stdout  # fmt: skip
    phones, start = [], 0.0
    for name, end in re.findall(r"(\w+):([0-9.]+)", out):
        phones.append(Phone(name, start, float(end)))
        start = float(end)
    return phones


def synthesize(text: str, voice: str) -> Utterance:
    """Speak ``text`` with ``voice`` (a key of ``VOICES``); 16 kHz samples and phone times.

    Raises:
        ParleyError: unknown voice, engine not installed, or synthesis failed.
    """
    if voice not in VOICES:
        raise ParleyError(f"unknown voice {voice!r}; one of {', '.join(VOICES)}")
    if not available(voice):
        raise ParleyError(f"voice {voice} is not installed (Debian: festival festvox-kallpc16k festvox-us-slt-hts flite)")
    engine, name, _ = VOICES[voice]
    with tempfile.TemporaryDirectory(prefix="parley-tts-") as tmp:
        wav = Path(tmp) / "say.wav"
        try:
            phones = _festival(text, name, wav, wav.with_suffix(".segs")) if engine == "festival" else _flite(
                text, name, wav)  # fmt: skip
        except (subprocess.SubprocessError, OSError) as exc:
            raise ParleyError(f"{voice}: synthesis failed ({exc})") from exc
        audio = load_audio(wav)
    return Utterance(audio.samples, phones, voice, text)


def espeak(text: str, voice: str) -> np.ndarray:
    """espeak-ng speech (any of its languages, e.g. ``fr``, ``de``, ``es``) as 16 kHz samples; no phone times.

    Raises:
        ParleyError: espeak-ng missing or failed.
    """
    if shutil.which("espeak-ng") is None:
        raise ParleyError("espeak-ng is not installed")
    with tempfile.TemporaryDirectory(prefix="parley-tts-") as tmp:
        wav = Path(tmp) / "say.wav"
        try:
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True, capture_output=True, timeout=60)
        except (subprocess.SubprocessError, OSError) as exc:
            raise ParleyError(f"espeak-ng {voice}: synthesis failed ({exc})") from exc
        return load_audio(wav).samples
