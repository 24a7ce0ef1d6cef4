"""Optional 68-point tracker: the ``face-alignment`` package (FAN), only when its weights are on disk.

face-alignment downloads its weights from the web on first use; Parley never downloads anything,
so this tracker runs only where the weights already sit in torch's hub cache, and otherwise says
exactly what is missing. MediaPipe stays the default tracker.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.errors import TrackerUnavailable

#: 68-point (iBUG) indices for the mouth-aperture measure: inner lips 62/66, outer eye corners 36/45.
APERTURE_68 = (62, 66, 36, 45)


def hub_checkpoints() -> Path:
    """Where torch keeps downloaded weights (``$TORCH_HOME/hub/checkpoints``)."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
    )
    return Path(home) / "hub" / "checkpoints"


def check_available() -> None:
    """Raise TrackerUnavailable unless the package is installed and its weights are cached."""
    try:
        import face_alignment  # noqa: F401
    except ImportError as exc:
        raise TrackerUnavailable(
            "face-alignment is not installed (optional: `.venv/bin/pip install face-alignment`); "
            "the default MediaPipe tracker needs nothing more"
        ) from exc
    cache = hub_checkpoints()
    have = sorted(p.name for ext in ("*.zip", "*.pth") for p in cache.glob(ext)) if cache.is_dir() else []
    if not any(n.startswith("2DFAN") for n in have) or not any(n.startswith("s3fd") for n in have):
        raise TrackerUnavailable(
            f"face-alignment's weights are not in {cache} (need s3fd-* and 2DFAN4-*, .zip or .pth); "
            "Parley never downloads at run time — copy them there from a machine that has them"
        )


def track_68(frames: list[np.ndarray]) -> np.ndarray:
    """(T, 68, 2) landmarks of the largest face per frame (NaN where none).

    Raises:
        TrackerUnavailable: see ``check_available``.
    """
    check_available()
    import face_alignment

    fa = face_alignment.FaceAlignment(face_alignment.LandmarksType.TWO_D, device="cpu")
    out = np.full((len(frames), 68, 2), np.nan, np.float32)
    for i, rgb in enumerate(frames):
        found = fa.get_landmarks_from_image(rgb)
        if found:
            out[i] = max(found, key=lambda p: float(np.ptp(p[:, 0]) * np.ptp(p[:, 1])))[:, :2]
    return out


def aperture_68(landmarks: np.ndarray) -> np.ndarray:
    """Mouth aperture |62 − 66| / |36 − 45| per frame for 68-point landmarks."""
    up, lo, e0, e1 = APERTURE_68
    lips = np.linalg.norm(landmarks[:, up] - landmarks[:, lo], axis=-1)
    eyes = np.linalg.norm(landmarks[:, e0] - landmarks[:, e1], axis=-1)
    return lips / np.maximum(eyes, 1e-9)
