"""What Ψ hears of a line: the phonetic encoder's evidence from the audio, and the dialogue script where it is given
and found in the audio (``parley animate --text``).

The script's words are phonemised (``core.speech.lexicon``), aligned through the encoder's own posteriors
(``core.speech.align``), and each word the audio really says carries its phones into Ψ's evidence
(``core.speech.evidence.script_evidence``). Words the audio does not say are reported, and their frames keep the
audio's evidence: the mouth never says other words than the voice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ParleyError

#: The longest script taken (characters): about ten minutes of speech.
MAX_SCRIPT_CHARS = 20_000


@dataclass
class Heard:
    evidence: np.ndarray  # (L, 41) at 50 Hz
    script: dict[str, Any] | None = None  # what the script path did (the result's meta "script")
    notes: list[str] = field(default_factory=list)


def check_script(text: str | None, language: str = "en") -> str | None:
    """A usable script or None (empty); refuses one that is too long or an unknown language.

    Raises:
        ParleyError: over ``MAX_SCRIPT_CHARS``, or a language Parley does not phonemise.
    """
    from core.speech.lexicon import LANGUAGES

    if language not in LANGUAGES:
        raise ParleyError(f"--language {language}: must be one of {', '.join(LANGUAGES)}")
    if text is None or not text.strip():
        return None
    if len(text) > MAX_SCRIPT_CHARS:
        raise ParleyError(f"--text: {len(text):,} characters; at most {MAX_SCRIPT_CHARS:,} (about ten minutes)")
    return text.strip()


def read_script(path: str | Path) -> str:
    """A dialogue file's text (UTF-8, a byte-order mark allowed; Latin-1 accepted as a last resort).

    Raises:
        ParleyError: missing, unreadable, a folder, or over ``MAX_SCRIPT_CHARS``.
    """
    p = Path(path)
    if not p.is_file():
        raise ParleyError(f"{path}: script file not found" if not p.exists() else f"{path}: not a file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ParleyError(f"{path}: cannot read the script ({exc.strerror})") from exc
    if len(raw) > 4 * MAX_SCRIPT_CHARS:
        raise ParleyError(f"{path}: {len(raw):,} bytes; a script is at most {MAX_SCRIPT_CHARS:,} characters")
    if b"\x00" in raw[:4096]:
        raise ParleyError(f"{path}: not a text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text


def hear(phonetic: Any, mel: np.ndarray, text: str | None = None, language: str = "en") -> Heard:
    """The evidence Ψ reads for one line's ``model_features`` (and its script, if any).

    Raises:
        ParleyError: a script in another language without espeak-ng, or one too long (``check_script``).
    """
    from core.models.phonetic import phone_posteriors
    from core.speech.align import MATCH_SCORE, MATCH_SCORE_OTHER, align_words
    from core.speech.evidence import audio_evidence, script_evidence
    from core.speech.lexicon import pronounce

    post = phone_posteriors(phonetic, mel)
    ev = audio_evidence(post, mel)
    script = check_script(text, language)
    if script is None:
        return Heard(ev)
    words = pronounce(script, language)
    al = align_words(np.log(post + 1e-8), words, MATCH_SCORE if language == "en" else MATCH_SCORE_OTHER)
    out = Heard(script_evidence(ev, al.phones, al.matched))
    missing = al.unmatched_spans()
    guessed = sorted({w.text for w in words if w.source != "cmudict"}) if language == "en" else []
    out.script = {
        "text": script, "language": language, "words": len(al.words),
        "matched_share": round(al.share_matched, 3),
        "unmatched": [[round(a, 2), round(b, 2), t] for a, b, t in missing],
        "aligner": "Parley's Viterbi aligner on the phonetic encoder's posteriors (50 Hz)",
        "lexicon": "CMU dictionary (pocketsphinx)" if language == "en" else f"espeak-ng {language} → English phones",
        "guessed_words": guessed[:50],
    }
    if missing:
        said = "; ".join(f"{a:.1f}–{b:.1f} s: {t!r}" for a, b, t in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        out.notes.append(f"script: {sum(not w.matched for w in al.words)} of {len(al.words)} words not heard in the "
                         f"audio ({said}{more}); there the mouth follows the audio alone")
    return out
