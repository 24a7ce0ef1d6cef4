"""The script aligner: words placed where the posteriors hear their phones, wrong words found and left out."""

from __future__ import annotations

import numpy as np

from core.speech.align import align_words
from core.speech.lexicon import Word
from core.speech.phoneset import INDEX, N_PHONES, SIL


def _posteriors(phones: list[tuple[str, int]], sharp: float = 0.85, seed: int = 0) -> np.ndarray:
    """(L, 40) log posteriors that hear ``phones`` (name, frames) in turn, with some noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, n in phones:
        for _ in range(n):
            p = rng.dirichlet(np.ones(N_PHONES)) * (1 - sharp)
            p[INDEX[name] if name != "SIL" else SIL] += sharp
            rows.append(p)
    return np.log(np.asarray(rows) + 1e-6)


SAID = [("SIL", 10), ("B", 3), ("AA", 6), ("B", 4), ("SIL", 5), ("M", 4), ("EY", 7), ("D", 3), ("SIL", 8)]
BOB, MADE = Word("bob", ("B", "AA", "B"), "cmudict"), Word("made", ("M", "EY", "D"), "cmudict")


def test_words_are_placed_where_they_are_said() -> None:
    al = align_words(_posteriors(SAID), [BOB, MADE])
    assert [w.matched for w in al.words] == [True, True]
    assert abs(al.words[0].start - 10) <= 1 and abs(al.words[0].end - 23) <= 1
    assert abs(al.words[1].start - 28) <= 1 and abs(al.words[1].end - 42) <= 1
    assert al.phones[15] == INDEX["AA"] and al.phones[5] == SIL
    assert al.matched[10:42].all() and not al.matched[:8].any()
    assert al.share_matched == 1.0 and al.unmatched_spans() == []


def test_a_word_the_audio_does_not_say_is_not_matched() -> None:
    shoe = Word("shoe", ("SH", "UW"), "cmudict")
    al = align_words(_posteriors(SAID), [BOB, shoe])
    assert al.words[0].matched and not al.words[1].matched
    assert al.words[1].score < al.words[0].score - 1.0
    start, end, text = al.unmatched_spans()[0]
    assert text == "shoe" and end > start
    assert not al.matched[al.words[1].start : al.words[1].end].any()


def test_a_script_too_long_for_the_audio_matches_nothing() -> None:
    long = [Word(f"w{i}", ("S", "T", "R", "IH", "NG", "Z"), "cmudict") for i in range(20)]
    al = align_words(_posteriors(SAID), long)
    assert not any(w.matched for w in al.words) and not al.matched.any()


def test_long_audio_uses_a_band_and_still_aligns() -> None:
    import core.speech.align as A

    old = A.MAX_CELLS
    A.MAX_CELLS = 100  # force the band on a short example
    try:
        al = align_words(_posteriors(SAID * 3), [BOB, MADE] * 3)
    finally:
        A.MAX_CELLS = old
    assert all(w.matched for w in al.words)


def test_a_narrow_band_finds_the_same_path() -> None:
    """Long files decode in a band around the diagonal; where the path stays in it, the band changes nothing."""
    from core.speech.align import _states, _viterbi

    words = [BOB, MADE] * 6
    post = _posteriors(SAID * 6)
    phone, _, optional = _states(words)
    emit = post[:, phone]
    full = _viterbi(emit, optional, 0)
    narrow = _viterbi(emit, optional, 12)
    assert full is not None and narrow is not None and np.array_equal(full, narrow)
    assert _viterbi(emit, optional, 12) is not None and len(narrow) == len(post)
