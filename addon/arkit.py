"""Matching a user's rig to ARKit's blendshape names (no bpy: the matching is tested without Blender).

Every result names its curves (meta ``arkit_names``) and the add-on drives keys by those names; the list below is
only for telling, before a result exists, whether a mesh looks like an ARKit rig (the test keeps it equal to core's).
"""

from __future__ import annotations

import re

ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
    "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight", "jawForward", "jawLeft", "jawRight", "jawOpen", "mouthClose", "mouthFunnel",
    "mouthPucker", "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft",
    "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff", "cheekSquintLeft",
    "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)

_SIDE = re.compile(r"(?:[._\s-]?(left|right|l|r))$", re.IGNORECASE)


def canonical_key(name: str) -> str:
    """A rig's shape-key name folded to compare with ARKit's: case-insensitive, ``Left/Right``, ``_L/_R``, ``.L/.R``,
    ``_left`` all the same side (``JawOpen`` → ``jawopen``; ``eyeBlink_L`` → ``eyeblinkleft``).

    A name with no side suffix is only lower-cased. Prefixes a rig adds (``blendShape1.``, ``ARKit_``) are not
    guessed: the match is on the whole name.
    """
    n = name.strip()
    m = _SIDE.search(n)
    if m and (len(m.group(1)) > 1 or m.group(0)[:1] in "._- "):
        side = "left" if m.group(1).lower().startswith("l") else "right"
        n = n[: m.start()] + side
    return n.replace("_", "").replace(".", "").replace(" ", "").replace("-", "").lower()


def match_rig(
    arkit_names: list[str] | tuple[str, ...], keys: list[str] | tuple[str, ...]
) -> tuple[dict[str, str], list[str]]:
    """ARKit name → the rig's key for every ARKit shape the rig has, and the ARKit names it lacks (in order).

    ``keys`` are a mesh's shape-key names; the first key that folds to an ARKit name wins (``Basis`` and keys that
    fold to nothing ARKit knows are ignored — they are never touched).
    """
    folded: dict[str, str] = {}
    for k in keys:
        folded.setdefault(canonical_key(k), k)
    found = {a: folded[canonical_key(a)] for a in arkit_names if canonical_key(a) in folded}
    return found, [a for a in arkit_names if a not in found]
