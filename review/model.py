"""What the review window shows, without Qt: a result, its head, its curves, and the commands its buttons run."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import ParleyError

if TYPE_CHECKING:
    from core.face.head import TexturedHead

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
    missing_face: str = ""  # the face the result names, when it is not on this machine

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
    if face and not Path(face).is_file():
        raise ParleyError(f"--face {face}: no such file")
    named = str(meta.get("face", ""))
    f = Path(face) if face else _existing(named)
    return Take(Path(result), fps, arkit, pose, blink, meta, a, f, "" if f is not None or not named else named)


def _existing(path: str) -> Path | None:
    """The file a result names, if it is here; the built-in portrait wherever this copy of Parley keeps it."""
    from core.reference import DEMO_FACE

    if not path:
        return None
    p = Path(path)
    if p.is_file():
        return p
    return DEMO_FACE if p.name == DEMO_FACE.name and p.parent.name == DEMO_FACE.parent.name else None


EXPORTS = (".glb", ".fbx", ".blend", ".mp4")


def check_exportable(take: Take, out: Path) -> None:
    """Raises ParleyError when ``out`` cannot be exported for this take: a suffix Parley does not write, or a take
    whose face is not on this machine (the window then shows the built-in portrait, which is not that person —
    an export is refused rather than written with a stranger's head)."""
    if out.suffix.lower() not in EXPORTS:
        raise ParleyError(f"{out.name}: choose {', '.join(EXPORTS)}")
    if take.missing_face:
        raise ParleyError(f"this result's face ({take.missing_face}) is not on this machine: give --face to export")


def export_take(take: Take, head: TexturedHead, out: Path, frames: Callable[[int], np.ndarray] | None = None,
                size: int = 384, should_stop: Callable[[], bool] | None = None) -> Path:
    """Write the reviewed curves as they are — nothing re-animated, no server — to ``out``:

    - ``.glb``: core's glTF writer, the head with its 52 morph targets and the take as a glTF animation;
    - ``.fbx`` / ``.blend``: the add-on's own scene and exporter (``addon/cli.py --result``), which needs Blender's
      ``bpy`` module; the sound goes into the .blend as a strip;
    - ``.mp4``: the shaded head (``frames(i)`` when given, e.g. the window's cache) with the sound.

    Raises:
        ParleyError: see ``check_exportable``; bpy missing; the exporter failed (its last line).
    """
    check_exportable(take, out)
    suffix = out.suffix.lower()
    if suffix == ".glb":
        from core.face.gltf import Take as Curves
        from core.face.gltf import write_glb

        return write_glb(head, out, Curves(take.fps, take.arkit, take.pose))
    if suffix == ".mp4":
        from core.face.shade import HeadRenderer
        from core.preview import encode_video

        if frames is None:
            renderer = HeadRenderer(head, size)

            def frames(i: int) -> np.ndarray:
                return renderer.render(take.arkit[i], take.pose[i])

        def each() -> Iterator[np.ndarray]:
            for i in range(take.frames):
                if should_stop is not None and should_stop():
                    raise ParleyError("export cancelled")
                yield frames(i)

        return encode_video(each(), size, take.fps, take.audio, out)
    return _export_blender(take, head, out)


def _export_blender(take: Take, head: TexturedHead, out: Path) -> Path:
    import importlib.util
    import subprocess
    import tempfile

    from core.face.gltf import write_glb

    cli = REPO / "addon" / "cli.py"
    if not cli.is_file():
        raise ParleyError(f"{out.suffix} export goes through the add-on's addon/cli.py, which this install lacks "
                          "(a source checkout has it); .glb needs nothing")
    if importlib.util.find_spec("bpy") is None:
        raise ParleyError(f"{out.suffix} export needs Blender's bpy module (pip install 'bpy==4.2.*'); "
                          ".glb needs nothing")
    with tempfile.TemporaryDirectory(prefix="parley-export-") as tmp:
        glb = write_glb(head, Path(tmp) / "head.glb")
        cmd = [sys.executable, str(cli), "--", "--result", str(take.path), "--head", str(glb),
               "--out", str(out)] + (["--audio", str(take.audio)] if take.audio else [])
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired as exc:
            raise ParleyError(f"{out.name}: the Blender export took over 10 minutes") from exc
    if r.returncode != 0:
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("addon/cli.py:")] or r.stderr.splitlines()
        raise ParleyError(f"{out.name}: {lines[-1] if lines else 'the Blender export failed'}")
    return out


def describe(take: Take) -> str:
    """One line for the window's title bar and status."""
    audio = take.audio.name if take.audio else "no audio"
    return f"{take.path.name} — {take.frames} frames at {take.fps:g} fps, {take.duration:.2f} s, {audio}"


def meta_text(take: Take) -> str:
    keep = {k: take.meta[k] for k in ("face", "seed", "articulation", "head_style", "spontaneous") if k in take.meta}
    return json.dumps(keep, indent=1, ensure_ascii=False)
