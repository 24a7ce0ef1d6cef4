"""``parley render``: a result's motion played by the person in a photo (or a face video's most frontal frame).

The frames come from the 3D-aware warp (``core.render.warp``), repaired by the refiner network where one ships
(``core.models.refiner``), at the photo's framing, ``size`` pixels on the long side, with the result's audio (or
the one given) muxed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ParleyError
from core.render.warp import Stage, WarpRenderer, make_stage


def stage_of(rgb: np.ndarray, rest: np.ndarray | None = None, source: str = "image") -> Stage:
    """The stage of one picture: tracked, its head fitted (identity on ``rest`` — the person at rest, from more
    frames when there are — else on the picture's own rest) and placed in it."""
    from core.face.canonical import canonical_face
    from core.face.geometry import disentangle
    from core.face.head import textured_head
    from core.face.neutral import rest_of
    from core.face.tracker import to_camera_frame, track_image

    obs = track_image(rgb, source=source)
    frame = disentangle(to_camera_frame(obs.landmarks)[None], canonical_face()).expression_landmarks[0]
    rest = rest if rest is not None else rest_of(frame, canonical_face())
    return make_stage(rgb, obs.landmarks, textured_head(rgb, obs.landmarks, frame, rest))


def stage_from(face: str | Path) -> Stage:
    """The stage of a photo, or of a face video's most frontal frame (its rest from all its frames)."""
    from core.face.media import is_video, iter_video_frames, load_image
    from core.face.reconstruct import reconstruct

    path = Path(face)
    if is_video(path):
        rec = reconstruct(path, head=False)
        *_, rgb = iter_video_frames(path, max_frames=rec.frame_index + 1)
        return stage_of(rgb, rec.identity, str(path))
    return stage_of(load_image(path), source=str(path))


def read_result(path: str | Path) -> tuple[float, np.ndarray, np.ndarray, dict[str, Any]]:
    """(fps, arkit (T, 52), pose (T, 6), meta) of a result NPZ.

    Raises:
        ParleyError: not a result, or one without ARKit curves (made before Parley had them).
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            if "arkit" not in z.files:
                raise ParleyError(f"{path}: this result has no ARKit curves (made by an older Parley): animate again")
            return float(z["fps"]), z["arkit"], z["pose"], json.loads(str(z["meta"]))
    except (OSError, ValueError, KeyError) as exc:
        raise ParleyError(f"{path}: not a Parley result ({exc})") from exc


def check_audio(audio: str | Path, fps: float, frames: int) -> None:
    """The audio's length must be the result's: T = ceil(duration × fps), one frame of slack."""
    from core.audio.decode import load_audio
    from core.audio.features import frame_count

    n = frame_count(load_audio(audio, allow_silence=True).duration, fps)
    if abs(n - frames) > 1:
        raise ParleyError(f"{audio}: {n} frames at {fps:g} fps, but the result has {frames}: it was made from "
                          "other audio or at another frame rate")  # fmt: skip


REFINER = Path(__file__).resolve().parents[1] / "assets" / "refiner.safetensors"


def load_refiner(path: str | Path | None = REFINER) -> Any:
    """The shipped refiner (``parley train renderer``), or None where none ships: the plain warp."""
    if path is None or not Path(path).is_file():
        return None
    from core.models.refiner import RefinerNet

    return RefinerNet.load(path)


def render(result: str | Path, face: str | Path, out: str | Path, audio: str | Path | None = None,
           size: int = 512, progress: Callable[[float], None] | None = None,
           refiner: str | Path | None = REFINER) -> Path:  # fmt: skip
    """Render ``result`` with ``face`` to an MP4 ``out``; ``progress`` gets the fraction done (it may raise to
    cancel: nothing is left behind). ``refiner``: the network that repairs the warp (None: the plain warp).

    Raises:
        ParleyError: a bad result, audio that does not match it, a size out of range, an output that is not .mp4.
        FaceNotFound, FaceTooSmall, ImageDecodeError: the face, as ``reconstruct`` says.
    """
    from core.preview import encode_video

    if Path(out).suffix.lower() != ".mp4":
        raise ParleyError(f"--out {out}: must end in .mp4")
    fps, arkit, pose, meta = read_result(result)
    if audio is None:
        src = meta.get("audio", {}).get("source", "")
        audio = src if src and Path(src).is_file() else None
    if audio is not None:
        check_audio(audio, fps, len(arkit))
    renderer = WarpRenderer(stage_from(face), size, load_refiner(refiner))

    def frames() -> Iterator[np.ndarray]:
        for t in range(len(arkit)):
            if progress is not None:
                progress(t / len(arkit))
            yield renderer.frame(arkit[t], pose[t])

    path = encode_video(frames(), (renderer.width, renderer.height), fps, audio, out)
    if progress is not None:
        progress(1.0)
    return path
