"""Matching a user's rig to ARKit names (no bpy)."""

from __future__ import annotations

from addon.arkit import ARKIT_NAMES as ADDON_NAMES
from addon.arkit import canonical_key, match_rig
from core.face.arkit import ARKIT_NAMES


def test_spellings_of_one_shape_fold_together() -> None:
    for spelling in ("eyeBlinkLeft", "EyeBlinkLeft", "eyeBlink_L", "eyeBlink.L", "Eye_Blink_L", "eyeblink_left"):
        assert canonical_key(spelling) == "eyeblinkleft", spelling
    assert canonical_key("JawOpen") == canonical_key("jawOpen") == "jawopen"
    assert canonical_key("mouthRollUpper") == "mouthrollupper"  # a trailing r is not a side
    assert canonical_key("mouthLeft") == canonical_key("mouth_L")  # a direction: the same fold, as ARKit means


def test_match_lists_found_and_missing_and_ignores_the_rest() -> None:
    keys = ["Basis", "JawOpen", "eyeBlink_L", "eyeBlink_R", "Smile_Custom", "mouthClose"]
    found, missing = match_rig(ARKIT_NAMES, keys)
    assert found == {"eyeBlinkLeft": "eyeBlink_L", "eyeBlinkRight": "eyeBlink_R", "jawOpen": "JawOpen",
                     "mouthClose": "mouthClose"}
    assert len(missing) == 48 and missing[0] == "eyeLookDownLeft" and "tongueOut" in missing


def test_the_addons_list_is_cores() -> None:
    assert ADDON_NAMES == ARKIT_NAMES
