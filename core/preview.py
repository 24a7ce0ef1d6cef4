"""A preview video a person can watch: the animated head (or the landmark mask), shaded, with the voice muxed in.

The full head is rendered by ``core.face.shade`` with the result's ARKit weights and head pose, frames shared out
to worker processes (the renderer is numpy on one core); the mask preview draws the result's landmarks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.errors import ParleyError
from core.face.geometry import apply_pose
from core.face.topology import face_triangles
from core.metrics.regions import LIPS_INNER, LIPS_OUTER

if TYPE_CHECKING:
    from core.face.head import TexturedHead

LIGHT = np.array([0.3, 0.4, 1.0]) / np.linalg.norm([0.3, 0.4, 1.0])


def render_frames(landmarks: np.ndarray, pose: np.ndarray, size: int = 512) -> np.ndarray:
    """(T, 468, 3) landmarks + (T, 6) pose → (T, size, size, 3) uint8 frames: flat-shaded mesh, lips drawn."""
    tris = face_triangles()
    placed = apply_pose(landmarks, pose)
    centre = landmarks[0].mean(0)
    span = float(np.ptp(landmarks[0][:, :2], axis=0).max())
    scale = 0.75 * size / max(span, 1e-6)
    rings = [(list(r), _ring_order(landmarks[0][list(r), :2]), col)
             for r, col in ((LIPS_OUTER, (200, 70, 70)), (LIPS_INNER, (240, 120, 120)))]
    frames = np.empty((len(placed), size, size, 3), np.uint8)
    for t, p in enumerate(placed):
        img = np.full((size, size, 3), 30, np.uint8)
        xy = np.stack([(p[:, 0] - centre[0]) * scale + size / 2, size / 2 - (p[:, 1] - centre[1]) * scale], 1)
        v = p[tris]  # (F, 3, 3)
        n = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
        n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
        shade = np.clip(np.abs(n @ LIGHT), 0.15, 1.0)
        for f in np.argsort(v[:, :, 2].mean(1)):  # painter's algorithm: far triangles first
            c = int(60 + 170 * shade[f])
            cv2.fillConvexPoly(img, np.round(xy[tris[f]] * 4).astype(np.int32), (c, int(c * 0.85), int(c * 0.75)),
                               lineType=cv2.LINE_AA, shift=2)
        for idx, order, colour in rings:
            pts = np.round(xy[idx] * 4).astype(np.int32)
            cv2.polylines(img, [pts[order]], True, colour, 2, cv2.LINE_AA, shift=2)
        frames[t] = img
    return frames


def _ring_order(xy: np.ndarray) -> np.ndarray:
    c = xy.mean(0)
    return np.argsort(np.arctan2(xy[:, 1] - c[1], xy[:, 0] - c[0]))


_WORKER: dict[str, object] = {}


def _init_worker(head: TexturedHead, size: int, worker: bool = True) -> None:
    from core.batch import ignore_interrupt
    from core.face.shade import HeadRenderer

    if worker:
        ignore_interrupt()
    _WORKER["renderer"] = HeadRenderer(head, size)


def _render_one(args: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    from core.face.shade import HeadRenderer

    renderer = _WORKER["renderer"]
    assert isinstance(renderer, HeadRenderer)
    return renderer.render(args[0], args[1])


def head_frames(head: TexturedHead, arkit: np.ndarray, pose: np.ndarray, size: int = 384,
                workers: int | None = None) -> Iterator[np.ndarray]:
    """The head rendered at each frame's ARKit weights and pose, in order (a pool of ``workers`` processes,
    default one per CPU up to 4)."""
    import multiprocessing as mp
    import os

    n = workers or min(4, os.cpu_count() or 1)
    jobs = list(zip(arkit.astype(np.float32), pose.astype(np.float32), strict=True))
    if n <= 1 or len(jobs) < 8:
        _init_worker(head, size, worker=False)
        yield from map(_render_one, jobs)
        return
    from core.batch import forking

    with forking():
        pool = mp.get_context("fork").Pool(n, initializer=_init_worker, initargs=(head, size))
    with pool:
        yield from pool.imap(_render_one, jobs, chunksize=4)


def write_head_preview(head: TexturedHead, arkit: np.ndarray, pose: np.ndarray, fps: float,
                       audio: str | Path | None, out: str | Path, size: int = 384) -> Path:
    """The animated full head as an H.264 MP4 with the audio muxed in (see ``write_preview``)."""
    return encode_video(head_frames(head, arkit, pose, size), size, fps, audio, out)


def write_preview(landmarks: np.ndarray, pose: np.ndarray, fps: float, audio: str | Path | None, out: str | Path,
                  size: int = 512) -> Path:
    """Render the landmark mask and encode an H.264 MP4 at ``fps`` with the audio (AAC) muxed in.

    Raises:
        ParleyError: the encoder failed (message from ffmpeg).
    """
    return encode_video(iter(render_frames(landmarks, pose, size)), size, fps, audio, out)


def encode_video(frames: Iterator[np.ndarray], size: int | tuple[int, int], fps: float, audio: str | Path | None,
                 out: str | Path) -> Path:
    """Frames (H, W, 3) uint8 → an H.264 MP4 at ``fps`` with ``audio`` muxed in (AAC), written to a temporary name
    and renamed when complete: an interrupted run leaves no half file. Every frame is kept: a result has
    ceil(duration × fps) frames, so its video runs to the end of its last frame, a little past the sound."""
    import imageio_ffmpeg

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".part" + out.suffix)
    wh = (size, size) if isinstance(size, int) else size
    try:
        writer = imageio_ffmpeg.write_frames(str(tmp), wh, fps=fps, codec="libx264", quality=7,
                                             audio_path=str(audio) if audio else None,
                                             audio_codec="aac" if audio else None,
                                             ffmpeg_log_level="error")
        writer.send(None)
        for f in frames:
            writer.send(np.ascontiguousarray(f))
        writer.close()
    except (OSError, RuntimeError, BrokenPipeError) as exc:
        tmp.unlink(missing_ok=True)
        raise ParleyError(f"{out}: could not encode the video ({exc})") from exc
    except BaseException:  # cancelled (Ctrl-C, a progress callback that raises): nothing half-written stays
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
    return out
