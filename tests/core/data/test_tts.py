"""Phone-timed synthetic speech from festival and flite, and mouth-class labels for untranscribed audio."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.tts import BILABIALS, VOICES, available, synthesize
from core.errors import ParleyError


@pytest.mark.parametrize("voice", ["flite:slt", "festival:kal"])
def test_phones_are_timed_and_cover_the_audio(voice: str) -> None:
    if not available(voice):
        pytest.skip(f"{voice} is not installed (Debian: festival festvox-kallpc16k flite)")
    u = synthesize("Bob made a map.", voice)
    names = [p.name for p in u.phones]
    assert {"b", "m", "p"} <= set(names) and "ae" in names
    ends = [p.end for p in u.phones]
    assert ends == sorted(ends) and all(p.end > p.start for p in u.phones)
    assert abs(ends[-1] - len(u.samples) / 16000) < 0.25  # the last phone ends with the audio
    b = next(p for p in u.phones if p.name in BILABIALS)
    seg = u.samples[int(b.start * 16000) : int(b.end * 16000)]
    vowel = next(p for p in u.phones if p.name == "aa" or p.name == "ae")
    vseg = u.samples[int(vowel.start * 16000) : int(vowel.end * 16000)]
    assert np.sqrt((seg**2).mean()) < np.sqrt((vseg**2).mean())  # a closed mouth is quieter than an open vowel


def test_unknown_voice_is_refused() -> None:
    with pytest.raises(ParleyError, match="unknown voice"):
        synthesize("hello", "festival:nobody")
    assert set(VOICES) >= {"festival:slt", "flite:awb"}


def test_viseme_labels_follow_the_speech() -> None:
    pytest.importorskip("pocketsphinx")
    if not available("flite:kal"):
        pytest.skip("flite is not installed")
    from core.audio.features import log_mel
    from core.data.phones import N_VISEMES, VISEMES, viseme_labels

    u = synthesize("Mama bought a big map of Panama.", "flite:kal")
    lab = viseme_labels(u.samples)
    assert len(lab) == len(log_mel(u.samples)) and lab.max() < N_VISEMES
    names = [VISEMES[i][0] for i in lab]
    assert names[0] == "silence" and "bilabial" in names and "open" in names
