"""Stage 1 of dataset preparation: track every frame of every clip (slow; cached and resumable)."""

from __future__ import annotations

import json
import logging
import os
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.errors import ParleyError
from core.face.tracker import to_camera_frame, track_video

log = logging.getLogger(__name__)


def clip_id(path: Path) -> tuple[str, str]:
    """(speaker, clip key) for a clip: the speaker is the parent folder's name."""
    speaker = path.parent.name
    return speaker, f"{speaker}_{path.stem}"


@dataclass
class TrackFailure:
    """A clip that could not be tracked, and why."""

    path: str
    reason: str


def _track_one(path: str, out: str) -> str | None:
    """Track one clip into ``out`` (npz). Returns an error message, or None on success."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    try:
        track = track_video(path)
    except ParleyError as exc:
        return str(exc)
    tmp = out + ".tmp.npz"
    np.savez_compressed(
        tmp,
        landmarks=to_camera_frame(track.landmarks).astype(np.float32),
        found=track.found,
        fps=np.float32(track.fps),
        size=np.array([track.width, track.height], np.int32),
    )
    os.replace(tmp, out)
    return None


def track_clips(videos: list[Path], out_dir: Path, workers: int = 2) -> list[TrackFailure]:
    """Track all clips into ``out_dir/tracks/<key>.npz``; clips already there are skipped.

    Returns the failures (also written to ``out_dir/failures.json``).
    """
    tdir = out_dir / "tracks"
    tdir.mkdir(parents=True, exist_ok=True)
    todo = []
    for v in videos:
        _, key = clip_id(v)
        if not (tdir / f"{key}.npz").exists():
            todo.append((str(v), str(tdir / f"{key}.npz")))
    failures: list[TrackFailure] = []
    fail_file = out_dir / "failures.json"
    if fail_file.exists():
        failures = [TrackFailure(**f) for f in json.loads(fail_file.read_text())]
        failed = {f.path for f in failures}
        todo = [t for t in todo if t[0] not in failed]
    if todo:
        # spawned, not forked: a MediaPipe graph the parent already ran does not survive a fork (the worker dies)
        with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=mp.get_context("spawn")) as pool:
            futs = {pool.submit(_track_one, src, dst): src for src, dst in todo}
            for fut in tqdm(as_completed(futs), total=len(futs), desc="tracking", unit="clip"):
                err = fut.result()
                if err is not None:
                    failures.append(TrackFailure(futs[fut], err))
                    log.warning("skipped %s: %s", futs[fut], err)
    fail_file.write_text(json.dumps([f.__dict__ for f in failures], indent=1))
    return failures
