"""A script's words → phones: the CMU dictionary, digits read out, fallbacks for unknown words, other languages."""

from __future__ import annotations

import shutil

import pytest

from core.errors import ParleyError
from core.speech.lexicon import check_phones, ipa_phones, normalise, number_words, pronounce, spell


def test_normalise_reads_digits_and_symbols() -> None:
    assert normalise("Hello, World! It's 42 & 7%.") == ["hello", "world", "it's", "forty", "two", "and", "seven",
                                                        "percent"]
    assert number_words(1999) == ["one", "thousand", "nine", "hundred", "ninety", "nine"]
    assert normalise("3pm") == ["three", "pm"]
    assert normalise("Ça va, l’été") == ["ça", "va", "l'été"]


def test_dictionary_words() -> None:
    w = pronounce("Bob made my map")
    assert [x.phones for x in w] == [("B", "AA", "B"), ("M", "EY", "D"), ("M", "AY"), ("M", "AE", "P")]
    assert {x.source for x in w} == {"cmudict"}
    check_phones(w)


def test_unknown_words_still_get_their_bilabials() -> None:
    """A made-up name is phonemised by espeak-ng when installed, by the spelling rules otherwise: a p, b or m stays
    a bilabial either way."""
    for word in pronounce("Zorblax flumphed"):
        assert word.source in ("espeak", "spelling")
        assert "B" in word.phones or "M" in word.phones
        check_phones([word])
    assert spell("moustache")[0] == "M" and "CH" in spell("moustache")
    assert spell("cinema")[0] == "S"  # a soft c


def test_ipa_to_english_phones() -> None:
    assert ipa_phones("pˈapa") == ("P", "AA", "P", "AA")
    assert ipa_phones("bʁˈoːtə") == ("B", "HH", "OW", "T", "AH")  # uvular r: a velar for the mouth
    assert ipa_phones("dy") == ("D", "UW")  # a front rounded vowel keeps its rounding


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_other_languages_through_espeak() -> None:
    words = pronounce("Mon papa part à Paris", "fr")
    assert [w.text for w in words] == ["mon", "papa", "part", "à", "paris"]
    assert words[1].phones[0] == "P" and words[0].phones[0] == "M"
    check_phones(words)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ParleyError, match="--language"):
        pronounce("hola", "xx")
