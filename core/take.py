"""A take's options — frame rate, articulation, head motion, blinks, gaze, brows — and the one check of them that
the command line, ``parley batch``, the server and ``core.animate`` share (the add-on's bpy-free copy of the
limits, ``addon/limits.py``, is checked against ``LIMITS`` by a test)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import ParleyError

#: (low, high) of each numeric option, inclusive.
LIMITS: dict[str, tuple[float, float]] = {"fps": (1.0, 240.0), "articulation": (0.0, 2.0),
                                          "head_motion": (0.0, 2.0), "blink_rate": (0.0, 60.0)}
GAZE_MODES = ("free", "camera", "off")


@dataclass
class Spontaneous:
    """How the head, eyes and brows move besides the mouth (the defaults are what a director would accept)."""

    head_motion: float = 1.0  # 0 still … 1 a talker's motion … 2 twice as much
    blink_rate: float | None = None  # blinks per minute; None: natural (conversational)
    gaze: str = "free"  # free: fixations and saccades; camera: eyes on the camera; off: straight ahead
    brows: bool = True  # brow raises on pitch accents

    def check(self) -> None:
        check_number("head_motion", self.head_motion)
        if self.blink_rate is not None and not in_range("blink_rate", self.blink_rate):
            raise ParleyError(f"--blink-rate {self.blink_rate:g}: must be 'natural' or between 0 and 60 per minute")
        if self.gaze not in GAZE_MODES:
            raise ParleyError(f"--gaze {self.gaze}: must be one of {', '.join(GAZE_MODES)}")

    def as_dict(self) -> dict[str, Any]:
        rate = "natural" if self.blink_rate is None else self.blink_rate
        return {"head_motion": self.head_motion, "blink_rate": rate, "gaze": self.gaze, "brows": self.brows}

    @staticmethod
    def parse_blink_rate(text: str | float | None) -> float | None:
        """'natural' (or empty) → None; a number of blinks per minute otherwise."""
        if text is None or str(text).strip().lower() in ("", "natural"):
            return None
        try:
            return float(text)
        except ValueError:
            raise ParleyError(f"--blink-rate {text}: must be 'natural' or a number of blinks per minute") from None


def in_range(name: str, value: float) -> bool:
    lo, hi = LIMITS[name]
    return bool(np.isfinite(value)) and lo <= value <= hi


def check_number(name: str, value: float) -> None:
    """Raises ParleyError("--NAME V: must be between LO and HI") for a value outside ``LIMITS[name]``."""
    if not in_range(name, value):
        lo, hi = LIMITS[name]
        raise ParleyError(f"--{name.replace('_', '-')} {value:g}: must be between {lo:g} and {hi:g}")


def check_take(fps: float, articulation: float, motion: Spontaneous | None = None) -> Spontaneous:
    """The take's options checked, before any work; the Spontaneous settings (the defaults when None).

    Raises:
        ParleyError: a value out of range, named as its command-line flag.
    """
    check_number("fps", fps)
    check_number("articulation", articulation)
    sp = motion or Spontaneous()
    sp.check()
    return sp
