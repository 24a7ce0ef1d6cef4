"""PocketSphinx (its en-US acoustic model, CMU dictionary and language models ship in the wheel): phone-level forced
alignment of known words, and recognition of speech without a transcript.

Used to make phone labels for training (``parley data phones``): GRID's sentences are known, LibriSpeech's are
recognised first and then aligned. ``parley animate --text`` aligns with Parley's own aligner
(``core.speech.align``) on the phonetic encoder's posteriors: about 10× faster than this, and it scores each word.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ParleyError
from core.speech.lexicon import Word
from core.speech.phoneset import SIL, phone_index

FRAME_S = 0.01  # PocketSphinx's frame: 10 ms, the log-mel rate


@dataclass(frozen=True)
class Segment:
    phone: str  # a CMU phone, or "SIL"
    start: float  # seconds
    end: float
    word: str = ""


def _model() -> Path:
    try:
        from pocketsphinx import get_model_path
    except ImportError as exc:
        raise ParleyError("phone labels need the pocketsphinx package (pip install pocketsphinx)") from exc
    return Path(get_model_path()) / "en-us"


def decoder(lm: bool = False) -> Any:
    """A PocketSphinx decoder: forced alignment only (``lm=False``), or recognition with the en-US language model."""
    from pocketsphinx import Decoder

    mp = _model()
    # alignment: wide beams, so an unusual voice (a synthetic one, a child) is still aligned, not pruned away
    kw: dict[str, Any] = {"lm": str(mp / "en-us.lm.bin")} if lm else {"lm": None, "beam": 1e-80, "pbeam": 1e-80,
                                                                     "wbeam": 1e-70}
    return Decoder(hmm=str(mp / "en-us"), dict=str(mp / "cmudict-en-us.dict"), loglevel="FATAL", **kw)


def _pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()


def _phone_pass(d: Any, pcm: bytes, text: str) -> tuple[Any, list[tuple[str, int, int]]] | None:
    """Word pass then phone pass over ``pcm``: (the phone-level alignment or None when only the word pass worked,
    the word segments (name, first frame, last frame)), or None when the words could not be aligned at all."""
    try:
        d.set_align_text(text)
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
    except RuntimeError:
        return None
    if d.hyp() is None:
        return None
    words = [(s.word, s.start_frame, s.end_frame) for s in d.seg()]
    try:
        d.set_alignment()
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        return d.get_alignment(), words
    except RuntimeError:  # PocketSphinx's phone pass fails on some utterances its word pass aligns
        return None, words


def _spread(phones: tuple[str, ...], a: int, b: int, word: str) -> list[Segment]:
    """A word's phones spread over its frames [a, b], vowels twice as long as consonants (the last resort)."""
    from core.speech.phoneset import VOWELS

    w = np.array([2.0 if p in VOWELS else 1.0 for p in phones])
    edges = a + np.concatenate([[0.0], np.cumsum(w) / w.sum()]) * (b + 1 - a)
    return [Segment(p, edges[i] * FRAME_S, edges[i + 1] * FRAME_S, word) for i, p in enumerate(phones)]


def align(samples: np.ndarray, words: list[Word], dec: Any = None) -> list[Segment] | None:
    """Phone segments of ``words`` spoken in ``samples`` (16 kHz), or None when PocketSphinx cannot align them.

    Every word goes in under a name of its own with exactly the given phones (the dictionary's alternatives, such as
    "again(2)", are not offered). When PocketSphinx's phone pass fails after its word pass worked, each word is
    aligned again on its own stretch of audio, or, failing that too, its phones are spread over it.
    """
    d = dec or decoder()
    names, phones_of = [], {}
    for w in words:
        if not w.phones:
            continue
        name = f"{w.text}__{'_'.join(w.phones).lower()}"
        if d.lookup_word(name) is None:
            d.add_word(name, " ".join(w.phones), True)
        names.append(name)
        phones_of[name] = w.phones
    if not names:
        return None
    done = _phone_pass(d, _pcm(samples), " ".join(names))
    if done is None:
        return None
    al, word_segs = done
    out = []
    if al is not None:
        for w in al:
            label = "" if w.name.startswith("<") else w.name.split("__")[0]
            for p in w:
                out.append(Segment(p.name, p.start * FRAME_S, (p.start + p.duration) * FRAME_S, label))
        if [w.name for w in al if not w.name.startswith("<")] == names:
            return out
        out = []  # the phone pass lost words the word pass had placed: align word by word instead
    for name, a, b in word_segs:
        if name not in phones_of:
            out.append(Segment("SIL", a * FRAME_S, (b + 1) * FRAME_S))
            continue
        label = name.split("__")[0]
        pad = 5
        lo = max(0, a - pad)
        sub = _phone_pass(d, _pcm(samples[lo * 160 : (b + 1 + pad) * 160]), name)
        segs = [] if sub is None or sub[0] is None else [
            Segment(p.name, (lo + p.start) * FRAME_S, (lo + p.start + p.duration) * FRAME_S, label)
            for w in sub[0] if not w.name.startswith("<") for p in w]
        if len(segs) != len(phones_of[name]):
            segs = _spread(phones_of[name], a, b, label)
        else:  # the word's own frames, as the word pass placed them
            segs[0] = Segment(segs[0].phone, a * FRAME_S, segs[0].end, label)
            segs[-1] = Segment(segs[-1].phone, segs[-1].start, (b + 1) * FRAME_S, label)
        out.extend(segs)
    return out


def recognise(samples: np.ndarray, dec: Any = None) -> list[str]:
    """The words PocketSphinx hears (en-US language model; no fillers)."""
    d = dec or decoder(lm=True)
    d.start_utt()
    d.process_raw(_pcm(samples), full_utt=True)
    d.end_utt()
    hyp = d.hyp()
    if hyp is None:
        return []
    return [w for w in hyp.hypstr.split() if not w.startswith("<") and not w.startswith("[")]


def frame_labels(segments: list[Segment], n_frames: int) -> np.ndarray:
    """(n_frames,) uint8 phone index per 10 ms (``core.speech.phoneset.PHONES``); silence where nothing is said."""
    out = np.full(n_frames, SIL, np.uint8)
    for s in segments:
        a, b = int(round(s.start / FRAME_S)), int(round(s.end / FRAME_S))
        try:
            out[max(0, a) : min(n_frames, b)] = phone_index(s.phone)
        except KeyError:
            out[max(0, a) : min(n_frames, b)] = SIL
    return out
