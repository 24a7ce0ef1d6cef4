"""A script's words → phones: English through the CMU dictionary that ships in the ``pocketsphinx`` wheel, words it
lacks through espeak-ng (when installed) or Parley's own spelling rules, other languages through espeak-ng's IPA
mapped onto the nearest English phones.

The mouth needs the phone classes more than the exact phones, and English spelling keeps those well: a ``p``, ``b``
or ``m`` is almost always a bilabial, an ``o`` or ``w`` a rounding. The spelling rules (``spell``) are the last
resort, never the first.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.errors import ParleyError
from core.speech.phoneset import INDEX

#: Languages the script path takes (espeak-ng voice names); English needs no espeak-ng.
LANGUAGES: dict[str, str] = {"en": "en-us", "fr": "fr", "de": "de", "es": "es", "it": "it", "pt": "pt"}


@dataclass(frozen=True)
class Word:
    text: str  # as the script wrote it (normalised)
    phones: tuple[str, ...]  # CMU phones
    source: str  # "cmudict" | "espeak" | "spelling"


def cmudict_path() -> Path:
    try:
        from pocketsphinx import get_model_path
    except ImportError as exc:
        raise ParleyError("the script path needs the pocketsphinx package (pip install pocketsphinx)") from exc
    return Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"


@lru_cache(maxsize=1)
def cmudict() -> dict[str, tuple[str, ...]]:
    """word → its first pronunciation (about 125,000 words; read once per process, ~0.2 s)."""
    out: dict[str, tuple[str, ...]] = {}
    with open(cmudict_path(), encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or "(" in parts[0]:
                continue
            out[parts[0]] = tuple(parts[1:])
    return out


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> list[str]:
    """0 … 999,999,999,999 in English words (the way a script's digits are read)."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            rest = number_words(n % size) if n % size else []
            return number_words(n // size) + [name] + rest
    return []


_SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals ", "$": " dollars "}


def normalise(text: str, language: str = "en") -> list[str]:
    """A script → its words, lower case: punctuation dropped (apostrophes inside words kept), English digits read
    out ("42" → "forty two"), a few symbols spelled."""
    for k, v in _SYMBOLS.items() if language == "en" else ():
        text = text.replace(k, v)
    words: list[str] = []
    for tok in re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text.lower()):
        tok = tok.replace("’", "'")
        if tok.isdigit() and language == "en":
            words += number_words(int(tok)) if len(tok) <= 12 else [_ONES[int(c)] for c in tok]
        elif re.fullmatch(r"\d+[a-z]+|[a-z]+\d+", tok) and language == "en":
            words += [w for part in re.findall(r"\d+|[a-z]+", tok) for w in normalise(part)]
        else:
            words.append(tok)
    return words


# Spelling rules, longest match first: (letters, phones). Vowel letters alone take their short sound.
_RULES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (k, tuple(v.split()))
    for k, v in (
        ("tion", "SH AH N"), ("sion", "ZH AH N"), ("ough", "AO"), ("augh", "AO"), ("eigh", "EY"), ("igh", "AY"),
        ("tch", "CH"), ("dge", "JH"), ("sch", "S K"), ("ph", "F"), ("th", "TH"), ("sh", "SH"), ("ch", "CH"),
        ("ck", "K"), ("ng", "NG"), ("qu", "K W"), ("wh", "W"), ("wr", "R"), ("kn", "N"), ("gh", "G"), ("ee", "IY"),
        ("ea", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"), ("oi", "OY"), ("oy", "OY"), ("ai", "EY"),
        ("ay", "EY"), ("au", "AO"), ("aw", "AO"), ("ie", "IY"), ("ei", "EY"), ("ey", "EY"), ("ue", "UW"),
        ("ew", "UW"), ("oa", "OW"), ("ar", "AA R"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"), ("or", "AO R"),
        ("x", "K S"), ("c", "K"), ("a", "AE"), ("e", "EH"), ("i", "IH"), ("o", "AA"), ("u", "AH"), ("y", "IY"),
        ("j", "JH"), ("q", "K"), ("b", "B"), ("d", "D"), ("f", "F"), ("g", "G"), ("h", "HH"), ("k", "K"),
        ("l", "L"), ("m", "M"), ("n", "N"), ("p", "P"), ("r", "R"), ("s", "S"), ("t", "T"), ("v", "V"),
        ("w", "W"), ("z", "Z"),
    )
)


def spell(word: str) -> tuple[str, ...]:
    """English letter-to-sound rules (a fallback): soft c and g before e/i/y, a silent final e, doubled letters
    once, a final y as /iy/, then the longest rule at each letter."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if len(w) > 3 and w.endswith("e") and w[-2] not in "aeiou":
        w = w[:-1]
    w = re.sub(r"([bcdfgklmnprstvz])\1", r"\1", w)
    out: list[str] = []
    i = 0
    while i < len(w):
        if w[i] in "cg" and i + 1 < len(w) and w[i + 1] in "eiy":
            out.append("S" if w[i] == "c" else "JH")
            i += 1
            continue
        for k, ph in _RULES:
            if w.startswith(k, i):
                out.extend(ph)
                i += len(k)
                break
        else:
            i += 1
    return tuple(out)


# IPA (espeak-ng --ipa) → the nearest CMU phones, for the mouth: front rounded vowels keep their rounding, uvular
# and velar fricatives are velars, taps and trills alveolars, nasal vowels their oral vowel.
_IPA: dict[str, tuple[str, ...]] = {
    k: tuple(v.split())
    for k, v in {
        "p": "P", "b": "B", "m": "M", "ɱ": "M", "β": "B", "ɸ": "F", "f": "F", "v": "V", "ʋ": "V", "θ": "TH",
        "ð": "DH", "t": "T", "d": "D", "n": "N", "l": "L", "ɫ": "L", "s": "S", "z": "Z", "ɾ": "D", "r": "D",
        "ɹ": "R", "ɻ": "R", "ʃ": "SH", "ʒ": "ZH", "tʃ": "CH", "dʒ": "JH", "ts": "T S", "dz": "D Z", "pf": "P F",
        "ɲ": "N Y", "ʎ": "L Y", "j": "Y", "ɥ": "W", "w": "W", "k": "K", "g": "G", "ɡ": "G", "ŋ": "NG",
        "x": "HH", "ɣ": "G", "χ": "HH", "ʁ": "HH", "ʀ": "HH", "ç": "HH", "h": "HH", "ʔ": "", "c": "K", "ɟ": "G",
        "i": "IY", "ɪ": "IH", "y": "UW", "ʏ": "UH", "e": "EY", "ɛ": "EH", "ø": "UH", "œ": "AH", "ə": "AH",
        "ɐ": "AH", "ʌ": "AH", "ɜ": "ER", "ɚ": "ER", "ɝ": "ER", "a": "AA", "æ": "AE", "ɑ": "AA", "ɒ": "AO",
        "ɔ": "AO", "o": "OW", "ʊ": "UH", "u": "UW", "ɯ": "UW", "ɨ": "IH", "aɪ": "AY", "aʊ": "AW", "ɔɪ": "OY",
        "eɪ": "EY", "oʊ": "OW", "əʊ": "OW", "ɔʏ": "OY", "ai": "AY", "au": "AW", "ei": "EY", "oi": "OY",
    }.items()
}
_IPA_KEYS = sorted(_IPA, key=len, reverse=True)
_IPA_DROP = re.compile("[ˈˌːˑ̩̯̃̊͡‿ʲʰʷ̪̥̞̝̠̟̺̻̬̤̰̹̜̈̆-]")


def ipa_phones(ipa: str) -> tuple[str, ...]:
    """One word's IPA (as espeak-ng writes it) → CMU phones; unknown symbols are skipped."""
    s = _IPA_DROP.sub("", ipa)
    out: list[str] = []
    i = 0
    while i < len(s):
        for k in _IPA_KEYS:
            if s.startswith(k, i):
                out.extend(_IPA[k])
                i += len(k)
                break
        else:
            i += 1
    return tuple(p for p in out if p)


def espeak_ipa(words: list[str], language: str) -> list[str] | None:
    """IPA for each word through espeak-ng (one call for all), or None when espeak-ng is not installed.

    Raises:
        ParleyError: espeak-ng failed, or gave back a different number of words.
    """
    exe = shutil.which("espeak-ng")
    if exe is None or not words:
        return None if exe is None else []
    try:
        out = subprocess.run([exe, "-q", "--ipa", "-v", LANGUAGES[language], "--stdin"], input="\n".join(words),
                             capture_output=True, text=True, timeout=60, check=True).stdout
    except (subprocess.SubprocessError, OSError) as exc:
        raise ParleyError(f"espeak-ng could not phonemise the script ({exc})") from exc
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    if len(lines) != len(words):  # espeak joined or split a line: phonemise one word at a time
        lines = []
        for w in words:
            r = subprocess.run([exe, "-q", "--ipa", "-v", LANGUAGES[language], w], capture_output=True, text=True,
                               timeout=30, check=False)
            lines.append(" ".join(r.stdout.split()))
    return lines


def pronounce(text: str, language: str = "en") -> list[Word]:
    """A script → its words with their phones.

    English: the CMU dictionary; words it lacks through espeak-ng when installed, else the spelling rules. Other
    languages (``LANGUAGES``): espeak-ng's IPA mapped onto English phones.

    Raises:
        ParleyError: an unknown language, or another language without espeak-ng installed.
    """
    if language not in LANGUAGES:
        raise ParleyError(f"--language {language}: must be one of {', '.join(LANGUAGES)}")
    words = normalise(text, language)
    if language != "en":
        ipa = espeak_ipa(words, language)
        if ipa is None:
            raise ParleyError(f"--language {language} needs espeak-ng (Debian/Ubuntu: apt install espeak-ng)")
        return [Word(w, ipa_phones(i), "espeak") for w, i in zip(words, ipa, strict=True)]
    d = cmudict()
    missing = [w for w in dict.fromkeys(words) if w not in d]
    guessed: dict[str, Word] = {}
    ipa = espeak_ipa(missing, "en") if missing else []
    for k, w in enumerate(missing):
        ph = ipa_phones(ipa[k]) if ipa else ()
        guessed[w] = Word(w, ph, "espeak") if ph else Word(w, spell(w), "spelling")
    return [Word(w, d[w], "cmudict") if w in d else guessed[w] for w in words]


def check_phones(words: list[Word]) -> None:
    """Every phone is a CMU phone (a programming error otherwise)."""
    for w in words:
        for p in w.phones:
            assert p in INDEX, (w, p)
