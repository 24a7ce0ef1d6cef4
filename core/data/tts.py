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
from tqdm import tqdm

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
                      f'(utt.save.wave utt "{wav}" \'riff)\n(utt.save.segs utt "{segs}")\n')
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
                         check=True, capture_output=True, text=True, timeout=60).stdout
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
                text, name, wav)
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


#: Synthetic voices that train the phonetic encoder (``parley data phones --synthetic``). Never the closure
#: benchmark's held-out speakers: SLT (festival and flite) and AWB.
TRAIN_VOICES = ("festival:kal", "flite:kal", "flite:rms")
_ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc", "en-gb-x-gbclan",
                   "en-gb-x-gbcwmd")
_ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")


def espeak_voices(n: int, seed: int = 0) -> list[str]:
    """``n`` espeak-ng English voices, accent × variant (``espeak:en-gb+f3``), deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    combos = [f"espeak:{a}+{v}" for a in _ESPEAK_ACCENTS for v in _ESPEAK_VARIANTS]
    return [combos[i] for i in rng.permutation(len(combos))[:n]]


def espeak_utterance(text: str, voice: str, rate: int = 165, pitch: int = 50) -> Utterance | None:
    """espeak-ng English (``espeak:ACCENT+VARIANT``) with phone times from PocketSphinx's aligner (espeak-ng prints
    none), or None when the alignment fails."""
    from core.speech import sphinx
    from core.speech.lexicon import pronounce

    name = voice.split(":", 1)[1]
    with tempfile.TemporaryDirectory(prefix="parley-tts-") as tmp:
        wav = Path(tmp) / "say.wav"
        try:
            subprocess.run(["espeak-ng", "-v", name, "-s", str(rate), "-p", str(pitch), "-w", str(wav), _clean(text)],
                           check=True, capture_output=True, timeout=60)
        except (subprocess.SubprocessError, OSError) as exc:
            raise ParleyError(f"espeak-ng {name}: synthesis failed ({exc})") from exc
        x = load_audio(wav).samples
    words = pronounce(text)
    seg = sphinx.align(x, words)
    if seg is None or not plausible(seg, words, x):
        return None
    return Utterance(x, [Phone(s.phone.lower(), s.start, s.end) for s in seg], voice, text)


def plausible(segments: list, words: list, samples: np.ndarray) -> bool:  # type: ignore[type-arg]
    """An alignment worth training on: every word has its phones in it, and the loud frames (within 12 dB of the
    loudest) are speech, not silence, for at least 85 % of them. PocketSphinx sometimes "aligns" a robotic voice
    by calling most of it silence."""
    from core.audio.features import frame_energy
    from core.speech.sphinx import frame_labels

    named = {s.word for s in segments if s.word}
    if any(w.phones and w.text not in named for w in words):
        return False
    e = frame_energy(samples, 100.0)
    lab = frame_labels(segments, len(e))
    loud = e > np.percentile(e, 95) - np.log(10**1.2)
    return bool(loud.sum() > 0 and (lab[loud] != 0).mean() >= 0.85)


def synthetic_corpus(out_dir: Path, per_voice: int = 120, espeak_n: int = 24, per_espeak: int = 30,
                     seed: int = 0) -> tuple[int, list[str]]:
    """Phone-labelled synthetic speech (``core.data.phone_corpus`` format): each of ``TRAIN_VOICES`` says
    ``per_voice`` sentences, ``espeak_n`` espeak-ng voices ``per_espeak`` each at varied rate and pitch; every voice
    its own sentences (``core.data.sentences``). Resumable. Returns (clips, voices that were not installed)."""
    import json

    from core.data.phone_corpus import LabelledClip, save_clip, write_manifest
    from core.data.sentences import make_sentences
    from core.speech.sphinx import Segment, frame_labels

    exclude = frozenset(_bench_sentences())
    voices = [(v, per_voice) for v in TRAIN_VOICES] + [(v, per_espeak) for v in espeak_voices(espeak_n, seed)]
    # (an espeak-ng line whose alignment is not ``plausible`` is left out: a voice may give fewer than per_espeak)
    texts = make_sentences(sum(n for _, n in voices), seed, exclude)
    rng = np.random.default_rng(seed)
    entries, missing, k = [], [], 0
    old = out_dir / "manifest.json"
    have = {e["name"]: e for e in json.loads(old.read_text())["clips"]} if old.is_file() else {}
    for voice, n in tqdm(voices, desc="voices", unit="voice"):
        espeak_voice = voice.startswith("espeak:")
        if not (shutil.which("espeak-ng") if espeak_voice else available(voice)):
            missing.append(voice)
            k += n
            continue
        for _ in range(n):
            text, k = texts[k], k + 1
            rate, pitch = int(rng.integers(130, 200)), int(rng.integers(20, 80))
            name = f"{voice.replace(':', '_').replace('+', '_')}_{k:05d}"
            if name in have:
                entries.append(have[name])
                continue
            u = espeak_utterance(text, voice, rate, pitch) if espeak_voice else synthesize(text, voice)
            if u is None:
                continue
            segs = [Segment(p.name, p.start, p.end) for p in u.phones]
            clip = LabelledClip(name, voice, u.samples, frame_labels(segs, 1 + len(u.samples) // 160), "synthetic",
                                VOICES[voice][2] if voice in VOICES else voice.rsplit("+", 1)[1][0].upper(), text)
            entries.append({**save_clip(out_dir, clip), "source": voice})
    write_manifest(out_dir, entries, "synthetic speech: festival/flite phone times, espeak-ng aligned by PocketSphinx")
    return len(entries), missing


def _bench_sentences() -> list[str]:
    """The closure benchmark's sentences, read from its file when it is there (a checkout), so none is trained on."""
    import ast

    f = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_closures.py"
    if not f.is_file():
        return []
    out: list[str] = []
    for node in ast.walk(ast.parse(f.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith("."):
            out.append(node.value)
    return out
