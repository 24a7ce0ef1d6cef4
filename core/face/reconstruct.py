"""Photo or video → the person's textured full head, identity landmarks and reference motion (``parley reconstruct``).

The head (``core.face.head``) is what Parley ships: the ICT head fitted to the person, with ARKit shape keys. The
468-point face mask (``core.face.mesh``) stays for technical directors who retarget Parley's landmarks with their
own tools: its vertices are exactly the result's ``landmarks`` (``parley reconstruct --mesh mask``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.face.canonical import canonical_face
from core.face.geometry import disentangle, open_frames
from core.face.head import TexturedHead, textured_head
from core.face.media import is_video, iter_video_frames, load_image
from core.face.mesh import TexturedFace, textured_face
from core.face.neutral import rest_of
from core.face.tracker import MIN_FACE_PX, to_camera_frame, track_image, track_video

log = logging.getLogger(__name__)

#: A face video is a reference of a few seconds: only its first 1,800 frames (a minute at 30 fps) are tracked,
#: and frames are not kept in memory, so a long upload costs time, not memory.
MAX_VIDEO_FRAMES = 1800


@dataclass
class Reconstruction:
    """What a face source yields: a mesh, its identity landmarks, and the reference head motion."""

    face: TexturedFace  # the 468-point mask
    head: TexturedHead | None  # the full head (None when not asked for: animating needs only the rest)
    identity: np.ndarray  # (468, 3) float32, canonical head frame, metres: the person at rest (``core.face.neutral``)
    frame_index: int  # the frame the mesh was made from (most frontal for videos)
    pose: np.ndarray  # (T, 6) head motion of the source (T = 1 for a photo)
    expression_landmarks: np.ndarray  # (T, 468, 3) canonical-frame landmarks of every frame
    fps: float  # 0 for a photo
    source: str
    image_landmarks: np.ndarray | None = None  # (T, 468, 3) each frame's tracked landmarks in its pixels

    def full_head(self) -> TexturedHead:
        """The head; reconstructing with ``head=False`` and then asking for it is a programming error."""
        if self.head is None:
            raise ValueError("this reconstruction was made without its head (reconstruct(..., head=False))")
        return self.head


def reconstruct_image(
    rgb: np.ndarray, source: str = "image", min_face_px: int = MIN_FACE_PX, head: bool = True
) -> Reconstruction:
    """Reconstruct from one RGB photo.

    Raises:
        FaceNotFound, FaceTooSmall: as ``track_image``.
    """
    obs = track_image(rgb, source=source, min_face_px=min_face_px)
    parts = disentangle(to_camera_frame(obs.landmarks)[None], canonical_face())
    identity = rest_of(parts.expression_landmarks[0], canonical_face())
    face = textured_face(rgb, obs.landmarks, identity)
    full = textured_head(rgb, obs.landmarks, parts.expression_landmarks[0], identity) if head else None
    return Reconstruction(face, full, identity, 0, parts.pose, parts.expression_landmarks, 0.0, source,
                          obs.landmarks[None])


def reconstruct(path: str | Path, progress: Callable[[float], None] | None = None, head: bool = True) -> Reconstruction:
    """Reconstruct from a photo or a video file (the video's most frontal frame makes the mesh).

    ``progress`` (for videos) gets the fraction of frames tracked; an exception it raises stops the work. Without
    ``head`` only the landmarks, the rest and the mask are made (what animating needs; 0.4 s less).

    Raises:
        ImageDecodeError, FaceNotFound, FaceTooSmall: unreadable file, no face, face too small.
    """
    path = Path(path)
    if not is_video(path):
        return reconstruct_image(load_image(path), source=str(path), head=head)
    track = track_video(path, max_frames=MAX_VIDEO_FRAMES, progress=progress)
    parts = disentangle(to_camera_frame(track.landmarks), canonical_face())
    k = parts.frontal_index
    frames = video_frames(path, [k] + (open_frames(parts.expression_landmarks, parts.pose, k) if head else []))
    frame = frames.pop(k)
    identity = rest_of(parts.expression_landmarks, canonical_face())
    face = textured_face(frame, track.landmarks[k], identity)
    open_views = [(rgb, track.landmarks[t]) for t, rgb in frames.items()]  # the inside of the mouth's colour
    full = (textured_head(frame, track.landmarks[k], parts.expression_landmarks[k], identity, open_views=open_views)
            if head else None)
    log.info("%s: mesh from frame %d of %d (most frontal), at rest", path, k, len(track.landmarks))
    return Reconstruction(face, full, identity, k, parts.pose, parts.expression_landmarks, track.fps, str(path),
                          track.landmarks)


def video_frames(path: str | Path, wanted: list[int]) -> dict[int, np.ndarray]:
    """The frames ``wanted`` of a video, by index (read in one pass; the others are not kept)."""
    want = set(wanted)
    return {t: rgb for t, rgb in enumerate(iter_video_frames(path, max_frames=max(want) + 1)) if t in want}
