"""The take's option limits, as core defines them (``core.take.LIMITS``; a test keeps this bpy-free copy equal):
the panel's sliders, ``addon/cli.py`` and the server all accept the same values."""

from __future__ import annotations

#: (low, high) of each numeric option, inclusive.
LIMITS: dict[str, tuple[float, float]] = {"fps": (1.0, 240.0), "articulation": (0.0, 2.0),
                                          "head_motion": (0.0, 2.0), "blink_rate": (0.0, 60.0)}


def out_of_range(name: str, value: float) -> str:
    """'' when ``value`` is allowed, else the line that says so ("--fps 300: must be between 1 and 240")."""
    lo, hi = LIMITS[name]
    if lo <= value <= hi:  # False for NaN too
        return ""
    return f"--{name.replace('_', '-')} {value:g}: must be between {lo:g} and {hi:g}"
