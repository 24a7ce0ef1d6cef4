"""Reading photos and video frames safely (size limits, clear errors)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.errors import ImageDecodeError

#: Largest image (in pixels) Parley will decode; above it the file is refused as a possible
#: decompression bomb. 64 MP covers any camera photo.
MAX_IMAGE_PIXELS = 64_000_000

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg"}


def is_video(path: str | Path) -> bool:
    """True when the file name says video (photo otherwise)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def load_image(path: str | Path, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode a photo to an RGB uint8 array (H, W, 3).

    Raises:
        ImageDecodeError: missing/unreadable file, or more than ``max_pixels`` pixels.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageDecodeError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImageDecodeError(f"{path}: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > max_pixels:
                    raise ImageDecodeError(
                        f"{path}: image is {w}x{h} ({w * h / 1e6:.0f} MP), over the {max_pixels / 1e6:.0f} MP "
                        "limit; scale it down first"
                    )
                im.load()
                rgb = im.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"{path}: image is too large to decode safely ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(f"{path}: not an image Parley can read (PNG, JPEG, WebP, BMP, TIFF...)") from exc
    except OSError as exc:  # truncated or corrupt image data
        raise ImageDecodeError(f"{path}: image data is damaged or truncated ({exc})") from exc
    return np.asarray(rgb, dtype=np.uint8)


@dataclass(frozen=True)
class VideoInfo:
    """Basic facts about a video stream."""

    fps: float
    frame_count: int
    width: int
    height: int


def video_info(path: str | Path) -> VideoInfo:
    """Open a video and read its frame rate, frame count and size.

    Raises:
        ImageDecodeError: the file is not a readable video.
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise ImageDecodeError(f"{path}: no such file")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise ImageDecodeError(f"{path}: not a video Parley can read")
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        cap.release()
    if w * h > MAX_IMAGE_PIXELS:
        raise ImageDecodeError(f"{path}: video frames are {w}x{h}, over the {MAX_IMAGE_PIXELS / 1e6:.0f} MP limit")
    if w <= 0 or h <= 0:
        raise ImageDecodeError(f"{path}: the video has no readable frames")
    return VideoInfo(fps=fps, frame_count=n, width=w, height=h)


def iter_video_frames(path: str | Path, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yield RGB uint8 frames (H, W, 3) of a video in order.

    Raises:
        ImageDecodeError: the file is not a readable video or yields no frame.
    """
    import cv2

    video_info(path)  # validates
    cap = cv2.VideoCapture(str(path))
    count = 0
    try:
        while max_frames is None or count < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            count += 1
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()
    if count == 0:
        raise ImageDecodeError(f"{path}: the video has no readable frames")
