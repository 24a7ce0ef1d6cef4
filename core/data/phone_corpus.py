"""Speech with a phone label per 10 ms, for the phonetic encoder (``parley train phonetic``) and the script path.

Three ways to label, one folder format (``DIR/manifest.json`` + ``DIR/clips/<name>.npz`` with ``audio`` int16 at
16 kHz, ``phones`` uint8 per 10 ms in ``core.speech.phoneset.PHONES`` and ``visemes`` uint8, their mouth classes):

- ``aligned``: the words are known (GRID's sentences are spelled by their file names) and PocketSphinx aligns them;
- ``recognised``: no transcript (LibriSpeech here): PocketSphinx recognises the words with its en-US language model,
  then aligns what it heard. Often wrong about a word, seldom about the phones' classes, and every label sequence is
  a sequence of real words;
- ``synthetic``: festival and flite voices say sentences and print each phone's time; espeak-ng voices are aligned.

``parley data phones`` makes them; resumable (finished clips are kept).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from core.data.manifest import manifest_clips
from core.batch import AUDIO_SUFFIXES
from core.errors import ParleyError
from core.speech.phoneset import PHONE_VISEME

RATE = 100  # labels per second

# GRID's grammar: command colour preposition letter digit adverb, spelled by the clip's six-letter name
_GRID = ({"b": "bin", "l": "lay", "p": "place", "s": "set"}, {"b": "blue", "g": "green", "r": "red", "w": "white"},
         {"a": "at", "b": "by", "i": "in", "w": "with"}, None,
         {"z": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
          "8": "eight", "9": "nine"}, {"a": "again", "n": "now", "p": "please", "s": "soon"})


def grid_sentence(key: str) -> str | None:
    """GRID's sentence from its clip name (``bbaf2n`` → "bin blue at f two now"); None for another name."""
    code = key.split("_")[-1]
    if len(code) != 6:
        return None
    words = []
    for table, c in zip(_GRID, code, strict=True):
        if table is None:
            words.append(c)
        elif c in table:
            words.append(table[c])
        else:
            return None
    return " ".join(words)


@dataclass
class LabelledClip:
    name: str
    speaker: str
    audio: np.ndarray  # (N,) float32
    phones: np.ndarray  # (F,) uint8
    kind: str  # aligned | recognised | synthetic
    sex: str = ""
    text: str = ""

    @property
    def visemes(self) -> np.ndarray:
        return PHONE_VISEME[self.phones].astype(np.uint8)


def save_clip(folder: Path, c: LabelledClip) -> dict[str, Any]:
    f = folder / "clips" / f"{c.name}.npz"
    f.parent.mkdir(parents=True, exist_ok=True)
    tmp = f.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, audio=(np.clip(c.audio, -1, 1) * 32767).astype(np.int16), phones=c.phones,
                        visemes=c.visemes, kind=np.str_(c.kind), text=np.str_(c.text))
    tmp.replace(f)
    return {"file": f"clips/{c.name}.npz", "name": c.name, "speaker": c.speaker, "sex": c.sex, "kind": c.kind,
            "text": c.text}


def write_manifest(folder: Path, entries: list[dict[str, Any]], how: str) -> None:
    (folder / "manifest.json").write_text(json.dumps({"labels": how, "rate_hz": RATE, "clips": entries}, indent=1))


def load_corpus(folder: Path) -> list[LabelledClip]:
    """Every clip of a phone corpus (``parley data phones``)."""
    out = []
    for c in manifest_clips(folder, "parley data phones …"):
        with np.load(folder / c["file"]) as z:
            if "phones" not in z.files:
                raise ParleyError(f"{folder}: made by an older `parley data phones` (mouth classes only); make it "
                                  "again")
            out.append(LabelledClip(c.get("name", Path(c["file"]).stem), c["speaker"],
                                    z["audio"].astype(np.float32) / 32768.0, z["phones"], c.get("kind", ""),
                                    c.get("sex", ""), c.get("text", "")))
    return out


def _speakers_sex(inputs: list[Path]) -> dict[str, str]:
    """LibriSpeech SPEAKERS.TXT files under the inputs: reader id → 'F'/'M'."""
    out: dict[str, str] = {}
    for p in inputs:
        for f in p.rglob("SPEAKERS.TXT") if p.is_dir() else ():
            for line in f.read_text(errors="replace").splitlines():
                parts = [s.strip() for s in line.split("|")]
                if len(parts) >= 2 and not line.startswith(";"):
                    out[parts[0]] = parts[1]
    return out


def _label_one(job: tuple[str, str, str, str | None]) -> tuple[str, dict[str, Any] | None, str]:
    """(source file, corpus folder, name, known text or None) → its manifest entry, or None and why not."""
    from core.audio.decode import load_audio
    from core.speech import sphinx
    from core.speech.lexicon import pronounce

    src, folder, name, text = job
    path = Path(src)
    target = Path(folder) / "clips" / f"{name}.npz"
    if target.exists():
        with np.load(target) as z:
            return name, {"file": f"clips/{name}.npz", "name": name, "kind": str(z["kind"]), "text": str(z["text"])}, ""
    try:
        a = load_audio(path).samples
    except ParleyError as exc:
        return name, None, str(exc)
    words = text.split() if text else sphinx.recognise(a, _decoders(True))
    if not words:
        return name, None, "nothing recognised"
    seg = sphinx.align(a, pronounce(" ".join(words)), _decoders(False))
    if seg is None:
        return name, None, "could not align"
    n = 1 + len(a) // 160
    clip = LabelledClip(name, path.parent.name, a, sphinx.frame_labels(seg, n), "aligned" if text else "recognised",
                        text=" ".join(words))
    return name, save_clip(Path(folder), clip), ""


_DECODERS: dict[bool, Any] = {}


def _decoders(lm: bool) -> Any:
    from core.speech import sphinx

    if lm not in _DECODERS:
        _DECODERS[lm] = sphinx.decoder(lm=lm)
    return _DECODERS[lm]


def label_audio(inputs: list[Path], out_dir: Path, workers: int = 2) -> tuple[int, list[tuple[str, str]]]:
    """Label speech files or folders of them: GRID clips (their names spell the sentence) are aligned, anything
    else is recognised, then aligned. Returns (clips in the manifest, [(file, why skipped)])."""
    files = []
    for p in inputs:
        files += sorted(q for q in p.rglob("*") if q.suffix.lower() in AUDIO_SUFFIXES | {".mp4"}) if p.is_dir() \
            else [p]
    if not files:
        raise ParleyError("no audio files in " + ", ".join(map(str, inputs)))
    sexes = _speakers_sex(inputs)
    jobs = [(str(f), str(out_dir), f"{f.parent.name}_{f.stem}", grid_sentence(f.stem)) for f in files]
    (out_dir / "clips").mkdir(parents=True, exist_ok=True)
    entries, skipped = [], []
    by_name = {j[2]: j for j in jobs}
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        for name, entry, why in tqdm(pool.map(_label_one, jobs, chunksize=4), total=len(jobs), desc="phones",
                                     unit="file"):
            if entry is None:
                skipped.append((by_name[name][0], why))
                continue
            speaker = Path(by_name[name][0]).parent.name
            entries.append({**entry, "speaker": speaker, "sex": sexes.get(speaker, ""),
                            "source": os.path.relpath(by_name[name][0], out_dir)})
    write_manifest(out_dir, entries, "PocketSphinx en-US: known words aligned, or recognised then aligned")
    return len(entries), skipped
