"""``parley render``: a result's motion played by the person in a photo (or a face video's most frontal frame).

The frames come from the 3D-aware warp (``core.render.warp``), repaired by the refiner network where one ships
(``core.models.refiner``), at the photo's framing, ``size`` pixels on the long side, with the result's audio (or
the one given) muxed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ParleyError
from core.face.geometry import open_frame, open_frames
from core.render.warp import Stage, WarpRenderer, make_stage


def stage_of(rgb: np.ndarray, rest: np.ndarray | None = None, source: str = "image",
             open_views: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> Stage:
    """The stage of one picture: tracked, its head fitted (identity on ``rest`` — the person at rest, from more
    frames when there are — else on the picture's own rest) and placed in it; ``open_views`` (RGB, image landmarks
    of the same footage's most open mouths) give the inside of the mouth its colour."""
    from core.face.canonical import canonical_face
    from core.face.geometry import disentangle
    from core.face.head import textured_head
    from core.face.neutral import rest_of
    from core.face.tracker import to_camera_frame, track_image

    obs = track_image(rgb, source=source)
    frame = disentangle(to_camera_frame(obs.landmarks)[None], canonical_face()).expression_landmarks[0]
    rest = rest if rest is not None else rest_of(frame, canonical_face())
    stage = make_stage(rgb, obs.landmarks, textured_head(rgb, obs.landmarks, frame, rest, open_views=open_views))
    if open_views:  # the head's teeth and inside drawn as the video shows this person's (``core.render.inside``)
        from core.face.ict import fit_head, load_head
        from core.render.inside import match_inside

        identity = fit_head(rest, load_head(), expression=False).identity
        stage.inside_match = match_inside(stage, open_views, identity)
    return stage


def stage_from(face: str | Path) -> Stage:
    """The stage of a photo, or of a face video's most frontal frame (its rest from all its frames, and its most
    open mouth as the refiner's reference and the colour of the mouth's inside)."""
    from core.face.ict import fit_head, load_head
    from core.face.media import is_video, load_image
    from core.face.reconstruct import reconstruct, video_frames

    path = Path(face)
    if not is_video(path):
        return stage_of(load_image(path), source=str(path))
    rec = reconstruct(path, head=False)
    k = rec.frame_index
    u = open_frame(rec.expression_landmarks, rec.pose, k)
    shown = open_frames(rec.expression_landmarks, rec.pose, k)  # the inside of the mouth's colour
    frames = video_frames(path, [k, *shown] + ([u] if u is not None else []))
    lm = rec.image_landmarks
    stage = stage_of(frames[k], rec.identity, str(path), [] if lm is None else [(frames[t], lm[t]) for t in shown])
    if u is not None:  # the hybrid embedding: the video's most open mouth shows the refiner the person's teeth
        identity = fit_head(rec.identity, load_head(), expression=False).identity
        arkit = fit_head(rec.expression_landmarks[u], load_head(), identity=identity).arkit
        stage.reference = (frames[u], arkit, (rec.pose[u] - rec.pose[k]).astype(np.float32))
    return stage


def read_result(path: str | Path) -> tuple[float, np.ndarray, np.ndarray, dict[str, Any]]:
    """(fps, arkit (T, 52), pose (T, 6), meta) of a result NPZ.

    Raises:
        ParleyError: not a result, or one without ARKit curves (made before Parley had them).
    """
    from core.contract import load_result

    r = load_result(path)
    return r.fps, r.arkit, r.pose, r.meta


def result_audio(meta: dict[str, Any], fps: float, frames: int, audio: str | Path | None = None) -> Path | None:
    """The audio to play a result with: ``audio`` if given, else the file the result was made from if it is still
    there (else None); checked to be as long as the result.

    Raises:
        ParleyError: a given file that is not there, or audio of another length or frame rate.
    """
    if audio is not None and not Path(audio).is_file():
        raise ParleyError(f"--audio {audio}: no such file")
    src = str(meta.get("audio", {}).get("source", ""))
    path = Path(audio) if audio is not None else (Path(src) if src and Path(src).is_file() else None)
    if path is not None:
        check_audio(path, fps, frames)
    return path


def check_audio(audio: str | Path, fps: float, frames: int) -> None:
    """The audio's length must be the result's: T = ceil(duration × fps), one frame of slack."""
    from core.audio.decode import load_audio
    from core.audio.features import frame_count

    n = frame_count(load_audio(audio, allow_silence=True).duration, fps)
    if abs(n - frames) > 1:
        raise ParleyError(f"{audio}: {n} frames at {fps:g} fps, but the result has {frames}: it was made from "
                          "other audio or at another frame rate")


REFINER = Path(__file__).resolve().parents[1] / "assets" / "refiner.safetensors"
#: The refiner for a face video: its reference is the video's most open mouth (``RefinerConfig.reference="open"``).
REFINER_VIDEO = REFINER.with_name("refiner_video.safetensors")


#: ``render``'s and ``refiner_for``'s default: for a face video the shipped video refiner, for a photo the plain
#: warp — which draws the inside of the mouth closer to real talkers' than the photo refiner does (issue 22:
#: ``bench_render``'s inside dE, dev-av 8.6 against 10.0, GRID 10.6 against 11.0; the refiner's wins are GRID's
#: SSIM/PSNR). ``--refiner shipped`` (or the file's path) asks for the photo refiner.
DEFAULT = "default"


def refiner_for(stage: Stage, refiner: str | Path | None = DEFAULT) -> str | Path | None:
    """The checkpoint to use: by default the video one where the stage has a second reference frame, none (the
    plain warp) for a photo; else ``refiner`` itself ("shipped": the photo refiner)."""
    if refiner == DEFAULT:
        return REFINER_VIDEO if stage.reference is not None and REFINER_VIDEO.is_file() else None
    if refiner == "shipped":
        return REFINER
    return refiner


def load_refiner(path: str | Path | None = REFINER) -> Any:
    """The refiner at ``path`` (``parley train renderer``); None for None, or for the shipped one where none ships
    (the plain warp).

    Raises:
        ParleyError: a refiner asked for by name that is not there.
        CheckpointError: a file that is not a refiner.
    """
    if path is None or (Path(path) == REFINER and not REFINER.is_file()):
        return None
    if not Path(path).is_file():
        raise ParleyError(f"--refiner {path}: no such file (train one with `parley train renderer --person VIDEO`)")
    from core.models.refiner import RefinerNet

    return RefinerNet.load(path)


def render(result: str | Path, face: str | Path, out: str | Path, audio: str | Path | None = None,
           size: int = 512, progress: Callable[[float], None] | None = None,
           refiner: str | Path | None = DEFAULT) -> Path:
    """Render ``result`` with ``face`` to an MP4 ``out``; ``progress`` gets the fraction done (it may raise to
    cancel: nothing is left behind). ``refiner``: the network that repairs the warp (None: the plain warp; the
    default: the plain warp for a photo, the shipped video refiner for a face video, ``refiner_for``).

    Raises:
        ParleyError: a bad result, audio that does not match it, a size out of range, an output that is not .mp4.
        FaceNotFound, FaceTooSmall, ImageDecodeError: the face, as ``reconstruct`` says.
    """
    from core.preview import encode_video

    if Path(out).suffix.lower() != ".mp4":
        raise ParleyError(f"--out {out}: must end in .mp4")
    fps, arkit, pose, meta = read_result(result)
    audio = result_audio(meta, fps, len(arkit), audio)
    stage = stage_from(face)
    renderer = WarpRenderer(stage, size, load_refiner(refiner_for(stage, refiner)))

    def frames() -> Iterator[np.ndarray]:
        for t in range(len(arkit)):
            if progress is not None:
                progress(t / len(arkit))
            yield renderer.frame(arkit[t], pose[t])

    path = encode_video(frames(), (renderer.width, renderer.height), fps, audio, out)
    if progress is not None:
        progress(1.0)
    return path
