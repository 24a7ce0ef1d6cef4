"""What a face gives an animation: the person at rest and, from a video, the head-motion style (``Reference``);
the built-in portrait's is precomputed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ParleyError
from core.loading import ASSETS

DEMO_FACE = ASSETS / "demo_face.jpg"
#: The built-in portrait's Reference, precomputed (``scripts/make_demo_reference.py``): animating without a face
#: needs neither MediaPipe nor a reconstruction (a second of every CLI start).
DEMO_REFERENCE = ASSETS / "demo_reference.npz"


@dataclass
class Reference:
    """What a face source gives the animation: identity shape and, for a video, head-motion style."""

    identity: np.ndarray  # (468, 3) the face at rest
    source: str
    motion: tuple[np.ndarray, np.ndarray, float] | None = None  # (log-mel, pose (τ, 6), fps) of a video
    notes: list[str] = field(default_factory=list)
    style: tuple[tuple[float, float, float], ...] | None = None  # a video's head style: rot std, speed, trans std

    def save(self, path: str | Path) -> Path:
        """An NPZ (no pickles) that ``Reference.load`` reads back: the face at rest and a video's head motion."""
        arrays: dict[str, Any] = {"identity": self.identity.astype(np.float32), "source": np.str_(self.source),
                                  "notes": np.str_(json.dumps(self.notes))}
        if self.motion is not None:
            arrays.update(motion_mel=self.motion[0], motion_pose=self.motion[1], motion_fps=np.float64(self.motion[2]))
        if self.style is not None:
            arrays["style"] = np.asarray(self.style, np.float64)
        np.savez(path, **arrays)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Reference:
        with np.load(path, allow_pickle=False) as z:
            motion = None
            if "motion_pose" in z.files:
                motion = (z["motion_mel"], z["motion_pose"], float(z["motion_fps"]))
            style = tuple(_t3(r) for r in z["style"]) if "style" in z.files else None
            return cls(z["identity"], str(z["source"]), motion, list(json.loads(str(z["notes"]))), style)

    @classmethod
    def from_frames(cls, landmarks: np.ndarray, source: str) -> Reference:
        """From tracked canonical-frame landmarks of one frame (468, 3) or several (T, 468, 3): the person's rest."""
        from core.face.canonical import canonical_face
        from core.face.neutral import rest_of

        return cls(rest_of(landmarks, canonical_face()), source)


def _t3(a: Any) -> tuple[float, float, float]:
    return (float(a[0]), float(a[1]), float(a[2]))


def face_reference(
    face: str | Path | None, frames: int = 50, progress: Callable[[float], None] | None = None
) -> Reference:
    """Reconstruct the face (photo or video); a video also yields its first ``frames`` of head motion and audio.

    ``progress`` gets the fraction of a video's frames tracked (see ``reconstruct``).
    """
    if face is None and DEMO_REFERENCE.is_file():
        ref = Reference.load(DEMO_REFERENCE)
        ref.source = str(DEMO_FACE)
        return ref
    from core.face.reconstruct import reconstruct

    path = Path(face) if face is not None else DEMO_FACE
    return reference_of(reconstruct(path, progress=progress, head=False), path, frames)


def reference_of(rec: Any, path: Path, frames: int = 50) -> Reference:
    """The Reference of a reconstruction (``core.face.reconstruct``) of ``path``: its rest and, for a video, the
    first ``frames`` of head motion with the audio under them."""
    from core.audio.decode import load_audio
    from core.audio.features import model_features

    ref = Reference(rec.identity, str(path))
    if rec.fps > 0 and len(rec.pose) >= 8:
        n = min(frames, len(rec.pose))
        pose = rec.pose[:n] - rec.pose[:n].mean(0)
        try:
            audio = load_audio(path, allow_silence=True).samples[: int(round(n / rec.fps * 16000))]
        except ParleyError:
            audio = np.zeros(int(round(n / rec.fps * 16000)), np.float32)
            ref.notes.append("reference video has no readable audio: its head motion is read with silence")
        ref.motion = (model_features(audio), pose.astype(np.float32), rec.fps)
        from core.models.spontaneous import HeadStyle

        st = HeadStyle.measure(rec.pose, rec.fps)  # the whole track the video gave, not only Φ's first frames
        ref.style = (st.rot_std, st.rot_speed, st.trans_std)
    return ref
