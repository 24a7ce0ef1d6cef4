"""Mouth-class labels for speech without transcripts: PocketSphinx's en-US phone loop (the v2 Ψ's phone head).

Phone labels for the phonetic encoder are made by ``core.data.phone_corpus`` (words aligned or recognised first);
this phone loop stays for Ψs trained with ``--inputs mel``.

``parley data phones`` labels audio-only corpora (LibriSpeech's 261 voices) so that Ψ's audio encoder can learn what
is being said from many voices, not one (``ExpressionConfig.phone_weight``). A phone recogniser without a word model
is often wrong about the exact phone but seldom about the mouth it needs: /p b m/ are told apart from vowels, open
vowels from closed ones. Labels are per 10 ms (100 Hz, the log-mel rate).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.audio.decode import load_audio
from core.errors import ParleyError
from core.data.manifest import manifest_clips
from core.speech.phoneset import BILABIAL, N_VISEMES, OPEN, VISEME_OF, VISEMES  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

_CLASS = VISEME_OF  # PocketSphinx phone → mouth class (silence and noise fillers: 0)


def _decoder():  # type: ignore[no-untyped-def]
    try:
        from pocketsphinx import Decoder, get_model_path
    except ImportError as exc:
        raise ParleyError("phone labels need the pocketsphinx package (pip install pocketsphinx)") from exc
    mp = Path(get_model_path()) / "en-us"
    return Decoder(hmm=str(mp / "en-us"), allphone=str(mp / "en-us-phone.lm.bin"), lw=2.0, pip=0.3,
                   beam=1e-20, pbeam=1e-20, loglevel="FATAL")


def viseme_labels(samples: np.ndarray, decoder=None) -> np.ndarray:  # type: ignore[no-untyped-def]
    """(F,) uint8 mouth class per 10 ms of 16 kHz speech (F = the log-mel frame count of ``samples``)."""
    d = decoder or _decoder()
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    d.start_utt()
    d.process_raw(pcm, full_utt=True)
    d.end_utt()
    n = 1 + len(samples) // 160
    out = np.zeros(n, np.uint8)
    for seg in d.seg():
        out[max(0, seg.start_frame) : min(n, seg.end_frame + 1)] = _CLASS.get(seg.word, 0)
    return out


def load_labelled(data_dir: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(speaker, audio float32, visemes) of every clip of a phone corpus (``parley data phones``,
    ``core.data.phone_corpus``)."""
    out = []
    for c in manifest_clips(data_dir, "parley data phones AUDIO..."):
        with np.load(data_dir / c["file"]) as z:
            out.append((c["speaker"], z["audio"].astype(np.float32) / 32768.0, z["visemes"]))
    return out


def cached_visemes(data_dir: Path, clips: list[tuple[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Mouth classes of a prepared dataset's clips (key, audio), labelled once and kept in ``data_dir/visemes.npz``."""
    cache = data_dir / "visemes.npz"
    have: dict[str, np.ndarray] = {}
    if cache.is_file():
        with np.load(cache) as z:
            have = {k: z[k] for k in z.files}
    todo = [(k, a) for k, a in clips if k not in have]
    if todo:
        dec = _decoder()
        for k, a in tqdm(todo, desc="phones", unit="clip"):
            have[k] = viseme_labels(a, dec)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **have)
        tmp.replace(cache)
    return {k: have[k] for k, _ in clips}
