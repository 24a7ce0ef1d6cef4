"""Face tracking: MediaPipe's 468-point face mesh on a photo or on every frame of a video.

Landmarks come back in *image* coordinates: x and y in pixels (y down), z in pixels too
(MediaPipe scales depth like x; smaller is nearer the camera). ``to_camera_frame`` turns them
into Parley's right-handed frame (x right, y up, z towards the camera).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from core.errors import FaceNotFound, FaceTooSmall
from core.face.media import is_video, iter_video_frames, load_image, video_info

log = logging.getLogger(__name__)

N_LANDMARKS = 468
#: Smallest face (longest side of the landmark box, pixels) that Parley tracks.
MIN_FACE_PX = 64


@dataclass
class FaceObservation:
    """One tracked face in one image."""

    landmarks: np.ndarray  # (468, 3) float32, image coordinates
    n_faces: int  # how many faces the detector saw (the largest is kept)
    size_px: float  # longest side of the landmark bounding box


def to_camera_frame(landmarks: np.ndarray) -> np.ndarray:
    """Image coordinates (x right, y down, z away) → camera frame (x right, y up, z towards camera)."""
    out = np.array(landmarks, dtype=np.float32, copy=True)
    out[..., 1] *= -1.0
    out[..., 2] *= -1.0
    return out


def _face_size(lm: np.ndarray) -> float:
    span = lm[:, :2].max(axis=0) - lm[:, :2].min(axis=0)
    return float(span.max())


#: Set by the ``parley`` command line (unless ``-v``): MediaPipe's native start-up chatter (TFLite's INFO line,
#: absl's W0000 warnings) goes to /dev/null. Only around a tracker's start and first frames, and never in the
#: server: file descriptor 2 is the whole process's, and other threads may be writing to it.
QUIET_NATIVE = False
#: Frames whose processing may still print start-up chatter: in video mode the landmark model's own warning comes
#: with the first frame tracked from the previous one, not the first frame.
NOISY_FRAMES = 3


_MUTE = {"depth": 0, "saved": -1}
_MUTE_LOCK = threading.Lock()


@contextmanager
def _native_stderr_muted(on: bool) -> Iterator[None]:
    """fd 2 to /dev/null while any muting tracker is open (counted, so trackers may close in any order)."""
    if not on:
        yield
        return
    with _MUTE_LOCK:
        if _MUTE["depth"] == 0:
            sys.stderr.flush()
            null = os.open(os.devnull, os.O_WRONLY)
            _MUTE["saved"] = os.dup(2)
            os.dup2(null, 2)
            os.close(null)
        _MUTE["depth"] += 1
    try:
        yield
    finally:
        with _MUTE_LOCK:
            _MUTE["depth"] -= 1
            if _MUTE["depth"] == 0:
                os.dup2(_MUTE["saved"], 2)
                os.close(_MUTE["saved"])


class _Deferred(types.ModuleType):
    """Stands in for a module MediaPipe imports and Parley never uses, until something touches it: the real module
    is then imported in its place and the attribute read from it (a submodule stand-in is returned as it is)."""

    def __getattr__(self, attr: str) -> Any:
        sub = sys.modules.get(f"{self.__name__}.{attr}")
        if isinstance(sub, _Deferred):
            return sub
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def _defer_matplotlib() -> None:
    """``import mediapipe`` runs its drawing helpers' ``import matplotlib.pyplot`` (a third of a second of every
    start with a face); Parley never draws with them, so matplotlib loads only if someone else uses it."""
    if "matplotlib" not in sys.modules and "matplotlib.pyplot" not in sys.modules:
        for name in ("matplotlib", "matplotlib.pyplot"):
            sys.modules[name] = _Deferred(name)


class MediaPipeTracker:
    """MediaPipe face mesh (468 points). Use as a context manager; not thread-safe.

    Args:
        video: tracking mode (landmarks of the previous frame seed the next); False for photos.
        max_faces: how many faces to look for; the largest is kept.
    """

    def __init__(self, video: bool = False, max_faces: int = 4) -> None:
        self._calls = 0
        # The graph's own threads print their start-up lines a moment after construction returns: stderr stays
        # muted from here through the first NOISY_FRAMES frames (or close), not only around the constructor.
        self._mute = ExitStack()
        self._mute.enter_context(_native_stderr_muted(QUIET_NATIVE))
        try:
            if "mediapipe" not in sys.modules:
                _defer_matplotlib()
            import mediapipe as mp

            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=not video,
                max_num_faces=max_faces,
                refine_landmarks=False,
                min_detection_confidence=0.5,
                min_tracking_confidence=0.5,
            )
        except BaseException:
            self._mute.close()
            raise

    def __enter__(self) -> MediaPipeTracker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._mesh.close()
        finally:
            self._mute.close()

    def track(self, rgb: np.ndarray) -> FaceObservation | None:
        """Landmarks of the largest face in an RGB uint8 image, or None when there is none."""
        h, w = rgb.shape[:2]
        res = self._mesh.process(np.ascontiguousarray(rgb))
        self._calls += 1
        if self._calls >= NOISY_FRAMES:
            self._mute.close()
        faces = res.multi_face_landmarks or []
        if not faces:
            return None
        best: np.ndarray | None = None
        best_size = -1.0
        for face in faces:
            lm = np.array([(p.x * w, p.y * h, p.z * w) for p in face.landmark[:N_LANDMARKS]], dtype=np.float32)
            size = _face_size(lm)
            if size > best_size:
                best, best_size = lm, size
        assert best is not None
        return FaceObservation(landmarks=best, n_faces=len(faces), size_px=best_size)


def track_image(rgb: np.ndarray, source: str = "image", min_face_px: int = MIN_FACE_PX) -> FaceObservation:
    """Track the largest face of one photo.

    Raises:
        FaceNotFound: no face in the image (the message names ``source``).
        FaceTooSmall: the face is under ``min_face_px`` pixels.
    """
    with MediaPipeTracker(video=False) as tracker:
        obs = tracker.track(rgb)
    if obs is None:
        raise FaceNotFound(f"{source}: no face found; use a well-lit photo with the face clearly visible")
    if obs.size_px < min_face_px:
        raise FaceTooSmall(
            f"{source}: the face is only {obs.size_px:.0f} px across (at least {min_face_px} px needed); "
            "use a closer or larger photo"
        )
    if obs.n_faces > 1:
        log.warning("%s: %d faces found; using the largest (%.0f px)", source, obs.n_faces, obs.size_px)
    return obs


@dataclass
class VideoTrack:
    """Landmarks of every frame of a video (frames without a face are filled by interpolation)."""

    landmarks: np.ndarray  # (T, 468, 3) float32, image coordinates
    found: np.ndarray  # (T,) bool, True where the tracker saw the face
    fps: float
    frames: list[np.ndarray] | None  # RGB frames when kept, else None
    width: int
    height: int


def track_frames(
    frames: Iterable[np.ndarray],
    fps: float,
    source: str = "video",
    keep_frames: bool = False,
    min_face_px: int = MIN_FACE_PX,
    max_missing: float = 0.5,
    progress: Callable[[int], None] | None = None,
) -> VideoTrack:
    """Track the largest face on every frame; gaps are linearly interpolated.

    Raises:
        FaceNotFound: no face in more than ``max_missing`` of the frames.
        FaceTooSmall: the face's median size is under ``min_face_px``.
    """
    lms: list[np.ndarray | None] = []
    kept: list[np.ndarray] = []
    size = (0, 0)
    sizes: list[float] = []
    with MediaPipeTracker(video=True, max_faces=2) as tracker:
        for i, rgb in enumerate(frames):
            size = (rgb.shape[1], rgb.shape[0])
            obs = tracker.track(rgb)
            lms.append(None if obs is None else obs.landmarks)
            if obs is not None:
                sizes.append(obs.size_px)
            if keep_frames:
                kept.append(rgb)
            if progress is not None:
                progress(i + 1)
    found = np.array([x is not None for x in lms], dtype=bool)
    if len(lms) == 0 or found.mean() < 1.0 - max_missing:
        raise FaceNotFound(f"{source}: no face found in {int((~found).sum())} of {len(lms)} frames")
    if float(np.median(sizes)) < min_face_px:
        raise FaceTooSmall(
            f"{source}: the face is only {np.median(sizes):.0f} px across (at least {min_face_px} needed)"
        )
    arr = np.full((len(lms), N_LANDMARKS, 3), np.nan, dtype=np.float32)
    for i, lm in enumerate(lms):
        if lm is not None:
            arr[i] = lm
    arr = interpolate_missing(arr, found)
    return VideoTrack(arr, found, fps, kept if keep_frames else None, size[0], size[1])


def interpolate_missing(seq: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Fill frames where ``found`` is False by linear interpolation (edges hold the nearest value)."""
    if found.all():
        return seq
    t = np.arange(len(seq))
    flat = seq.reshape(len(seq), -1)
    out = np.empty_like(flat)
    for j in range(flat.shape[1]):
        out[:, j] = np.interp(t, t[found], flat[found, j])
    return out.reshape(seq.shape)


def track_video(
    path: str | Path, keep_frames: bool = False, max_frames: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> VideoTrack:
    """Track every frame of a video file (see ``track_frames``); ``progress`` gets the fraction of frames done."""
    info = video_info(path)
    frames = iter_video_frames(path, max_frames=max_frames)
    total = max(1, min(info.frame_count, max_frames or info.frame_count))
    per_frame = None if progress is None else (lambda i: progress(min(1.0, i / total)))
    return track_frames(frames, info.fps, source=str(path), keep_frames=keep_frames, progress=per_frame)


def track_path(path: str | Path, keep_frames: bool = False) -> VideoTrack:
    """Track a photo (as a one-frame track) or a video, by file name."""
    if is_video(path):
        return track_video(path, keep_frames=keep_frames)
    rgb = load_image(path)
    obs = track_image(rgb, source=str(path))
    return VideoTrack(
        obs.landmarks[None], np.ones(1, bool), 0.0, [rgb] if keep_frames else None, rgb.shape[1], rgb.shape[0]
    )
