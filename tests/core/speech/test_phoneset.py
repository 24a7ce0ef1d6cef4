"""The phone set: names in any spelling map to one index; mouth classes sum the phones' probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from core.speech.phoneset import (
    BILABIAL,
    INDEX,
    N_PHONES,
    N_VISEMES,
    OPEN,
    PHONE_VISEME,
    SIL,
    phone_index,
    viseme_posteriors,
)


def test_names_in_every_spelling() -> None:
    assert N_PHONES == 40 and phone_index("sil") == SIL == 0
    assert phone_index("AH0") == phone_index("ah") == phone_index("ax") == INDEX["AH"]  # stress, festival's schwa
    assert phone_index("pau") == phone_index("<sil>") == phone_index("+NSN+") == SIL
    assert phone_index("em") == INDEX["M"] and phone_index("dx") == INDEX["D"]
    with pytest.raises(KeyError):
        phone_index("qq")


def test_mouth_classes() -> None:
    assert {p for p in INDEX if PHONE_VISEME[INDEX[p]] == BILABIAL} == {"P", "B", "M"}
    assert PHONE_VISEME[INDEX["AA"]] == OPEN and PHONE_VISEME[INDEX["UW"]] != OPEN
    post = np.random.default_rng(0).dirichlet(np.ones(N_PHONES), size=7).astype(np.float32)
    vis = viseme_posteriors(post)
    assert vis.shape == (7, N_VISEMES)
    np.testing.assert_allclose(vis.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vis[:, BILABIAL], post[:, [INDEX["P"], INDEX["B"], INDEX["M"]]].sum(1), atol=1e-6)
