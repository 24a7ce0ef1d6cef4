"""What the review window shows, without Qt: a result, its head, its curves, and the commands its buttons run."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ParleyError

REPO = Path(__file__).resolve().parents[1]

#: The curves plotted under the head: (label, colour) per row; values come from ``Take.curves``.
CURVES = (("mouth open", "#d9534f"), ("head pitch °", "#5b8def"), ("head yaw °", "#46b17b"),
          ("head roll °", "#b07cc6"), ("blink", "#e0a33a"))


@dataclass
class Take:
    """One result to review: its curves, where its audio and face are, and the settings it was made with."""

    path: Path
    fps: float
    arkit: np.ndarray  # (T, 52)
    pose: np.ndarray  # (T, 6)
    blink: np.ndarray  # (T, 2)
    meta: dict[str, Any]
    audio: Path | None
    face: Path | None

    @property
    def frames(self) -> int:
        return len(self.arkit)

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    def curves(self) -> np.ndarray:
        """(5, T): mouth opening, head pitch/yaw/roll in degrees, blink (both eyes' mean)."""
        from core.face.arkit import INDEX

        deg = np.degrees(self.pose[:, :3]).T
        return np.stack([self.arkit[:, INDEX["jawOpen"]], *deg, self.blink.mean(1)]).astype(np.float32)

    def frame_at(self, seconds: float) -> int:
        return int(np.clip(np.floor(seconds * self.fps + 1e-6), 0, self.frames - 1))


def load_take(result: str | Path, face: str | Path | None = None, audio: str | Path | None = None) -> Take:
    """A result NPZ (``parley animate``), with the face and audio it was made from unless others are given.

    Raises:
        ParleyError: not a result, one without ARKit curves, or an audio/face file that is not there.
    """
    from core.contract import load_result
    from core.render.video import result_audio

    r = load_result(result)
    fps, arkit, pose, meta, blink = r.fps, r.arkit, r.pose, r.meta, r.blink
    a = result_audio(meta, fps, len(arkit), audio)
    f = Path(face) if face else _existing(str(meta.get("face", "")))
    if face and not Path(face).is_file():
        raise ParleyError(f"--face {face}: no such file")
    return Take(Path(result), fps, arkit, pose, blink, meta, a, f)


def _existing(path: str) -> Path | None:
    return Path(path) if path and Path(path).is_file() else None


def export_command(take: Take, out: Path) -> list[str]:
    """The add-on's command line that writes ``out`` (.glb/.fbx/.blend) for this take: the same audio, face, frame
    rate and take settings, so the server makes the same curves (one input and seed give identical results)."""
    if take.audio is None:
        raise ParleyError("this result's audio is not on this machine: give --audio to export")
    sp = take.meta.get("spontaneous", {})
    rate = sp.get("blink_rate")
    cmd = [sys.executable, str(REPO / "addon" / "cli.py"), "--", "--audio", str(take.audio),
           "--face", str(take.face or REPO / "core" / "assets" / "demo_face.jpg"), "--out", str(out),
           "--fps", repr(take.fps), "--articulation", repr(float(take.meta.get("articulation", 1.0))),
           "--head-motion", repr(float(sp.get("head_motion", 1.0))),
           "--blink-rate", "natural" if rate in (None, "natural") else repr(float(rate)),
           "--gaze", str(sp.get("gaze", "free")), "--brows", "on" if sp.get("brows", True) else "off",
           "--seed", str(int(take.meta.get("seed", 0)))]
    return cmd


def describe(take: Take) -> str:
    """One line for the window's title bar and status."""
    audio = take.audio.name if take.audio else "no audio"
    return f"{take.path.name} — {take.frames} frames at {take.fps:g} fps, {take.duration:.2f} s, {audio}"


def meta_text(take: Take) -> str:
    keep = {k: take.meta[k] for k in ("face", "seed", "articulation", "head_style", "spontaneous") if k in take.meta}
    return json.dumps(keep, indent=1, ensure_ascii=False)
