"""The phone set every part of Parley speaks: the 39 CMU/ARPAbet phones (no stress) and silence, and the mouth
classes (visemes) they fall into.

Index 0 is silence. Phone labels are per 10 ms (100 Hz, the log-mel rate); the phonetic encoder's posteriors are at
50 Hz. The festival and flite voices print the same phones in lower case (``pau`` for silence).
"""

from __future__ import annotations

import numpy as np

PHONES: tuple[str, ...] = (
    "SIL", "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH", "IH", "IY",
    "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
)
N_PHONES = len(PHONES)
SIL = 0
INDEX: dict[str, int] = {p: i for i, p in enumerate(PHONES)}
#: What speech engines and corpora call silence, breath and noise.
SILENCES = frozenset({"SIL", "PAU", "SP", "SPN", "NSN", "H#", "<SIL>", "+NSN+", "+SPN+", "BRTH", "#"})
#: Phones of festival's and flite's "radio" set that CMU writes otherwise (syllabic consonants: their consonant).
ALIASES = {"AX": "AH", "AXR": "ER", "IX": "IH", "UX": "UW", "EL": "L", "EM": "M", "EN": "N", "NX": "N", "DX": "D",
           "HV": "HH", "Q": "SIL"}

#: Mouth classes (visemes) and the phones in each; silence and noise are class 0.
VISEMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("silence", ("SIL",)),
    ("bilabial", ("P", "B", "M")),
    ("labiodental", ("F", "V")),
    ("dental", ("TH", "DH")),
    ("alveolar", ("T", "D", "N", "L", "S", "Z")),
    ("postalveolar", ("SH", "ZH", "CH", "JH")),
    ("velar", ("K", "G", "NG", "HH")),
    ("rounded", ("W", "UW", "UH", "OW", "OY", "R")),
    ("open", ("AA", "AE", "AO", "AW", "AY", "AH")),
    ("mid", ("EH", "ER", "EY")),
    ("spread", ("IY", "IH", "Y")),
)
N_VISEMES = len(VISEMES)
BILABIAL = 1  # index of /p b m/ in VISEMES
OPEN = 8  # index of the open vowels
ROUNDED, MID, SPREAD = 7, 9, 10
NUCLEI = (ROUNDED, OPEN, MID, SPREAD)  # the classes a syllable's vowel falls into
VISEME_OF: dict[str, int] = {p: i for i, (_, phones) in enumerate(VISEMES) for p in phones}
#: (N_PHONES,) the mouth class of each phone.
PHONE_VISEME = np.array([VISEME_OF[p] for p in PHONES], np.int64)
VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"})


def phone_index(name: str) -> int:
    """A phone name in any case, with or without a stress digit (``AH0``), silences by any of their names → index.

    Raises:
        KeyError: not a CMU phone.
    """
    p = name.strip().upper().rstrip("012")
    p = ALIASES.get(p, p)
    if p in SILENCES:
        return SIL
    return INDEX[p]


def viseme_posteriors(phone_post: np.ndarray) -> np.ndarray:
    """(T, N_PHONES) phone probabilities → (T, N_VISEMES) mouth-class probabilities (summed within each class)."""
    out = np.zeros((len(phone_post), N_VISEMES), np.float32)
    np.add.at(out.T, PHONE_VISEME, phone_post.T.astype(np.float32))
    return out
