"""``parley data prepare``: real footage → per-clip arrays (landmarks, pose, audio) and a manifest.

Stage 1 tracks every frame (``core.data.tracking``, cached). Stage 2, cheap, filters the jitter,
splits head pose from expression against the canonical face, decodes the audio, and writes
``clips/<key>.npz`` plus ``manifest.json``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.audio.decode import load_audio
from core.audio.features import frame_count, log_mel
from core.data.filters import parley_filter
from core.data.tracking import clip_id, track_clips
from core.errors import ParleyError
from core.face.canonical import ASSET as CANONICAL_ASSET
from core.face.canonical import canonical_face, fit_canonical

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1


@dataclass
class PrepareReport:
    """What a prepare run did."""

    clips: int
    skipped: list[tuple[str, str]]
    out_dir: Path


def find_videos(inputs: list[Path]) -> list[Path]:
    """Expand folders into the video files under them (sorted)."""
    exts = {".mp4", ".mov", ".mkv", ".avi", ".mpg", ".webm"}
    out: list[Path] = []
    for p in inputs:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix.lower() in exts))
        else:
            out.append(p)
    return out


def prepare_clip(video: Path, track_file: Path, out_file: Path, canonical: np.ndarray) -> dict[str, object]:
    """Stage 2 for one clip; returns its manifest entry."""
    speaker, key = clip_id(video)
    tr = np.load(track_file)
    raw = tr["landmarks"]
    fps = float(tr["fps"])
    parts = parley_filter(raw, canonical)
    audio = load_audio(video, allow_silence=True)
    n = frame_count(audio.duration, fps)
    T = min(n, len(raw))  # audio and video may differ by a frame
    mel = log_mel(audio.samples)
    tmp = out_file.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        landmarks=parts.expression_landmarks[:T].astype(np.float32),
        pose=parts.pose[:T].astype(np.float32),
        scale=parts.scale[:T],
        found=tr["found"][:T],
        audio=(audio.samples * 32767).astype(np.int16),
        mel=mel.astype(np.float16),
        fps=np.float32(fps),
    )
    tmp.replace(out_file)
    return {
        "key": key,
        "speaker": speaker,
        "source": str(video),
        "file": f"clips/{out_file.name}",
        "frames": int(T),
        "fps": fps,
        "duration": round(audio.duration, 4),
        "tracked_fraction": round(float(tr["found"].mean()), 4),
        "frontal_index": int(parts.frontal_index),
    }


def prepare(inputs: list[Path], out_dir: Path, workers: int = 2, refit_canonical: bool = False) -> PrepareReport:
    """Prepare a dataset from videos or folders of videos (resumable: finished clips are kept)."""
    videos = find_videos(inputs)
    failures = track_clips(videos, out_dir, workers=workers)
    skipped = [(f.path, f.reason) for f in failures]
    tdir = out_dir / "tracks"
    tracked = [(v, tdir / f"{clip_id(v)[1]}.npz") for v in videos]
    ready = [(v, t) for v, t in tracked if t.exists()]
    if refit_canonical or not CANONICAL_ASSET.is_file():
        can = fit_canonical([np.load(t)["landmarks"] for _, t in ready])
        np.save(CANONICAL_ASSET, can)
        canonical_face.cache_clear()
        log.info("fitted the canonical face on %d clips → %s", len(ready), CANONICAL_ASSET)
    canonical = canonical_face()
    cdir = out_dir / "clips"
    cdir.mkdir(parents=True, exist_ok=True)
    manifest_file = out_dir / "manifest.json"
    old = {c["key"]: c for c in json.loads(manifest_file.read_text())["clips"]} if manifest_file.exists() else {}
    entries = []
    for video, track_file in tqdm(ready, desc="preparing", unit="clip"):
        key = clip_id(video)[1]
        out_file = cdir / f"{key}.npz"
        if key in old and out_file.exists():
            entries.append(old[key])
            continue
        try:
            entries.append(prepare_clip(video, track_file, out_file, canonical))
        except ParleyError as exc:
            skipped.append((str(video), str(exc)))
            log.warning("skipped %s: %s", video, exc)
    manifest = {
        "version": MANIFEST_VERSION,
        "units": "metres; canonical head frame (x right, y up, z towards camera)",
        "pose": "rx, ry, rz (rad, XYZ Euler), tx, ty, tz (m)",
        "audio": "int16 mono 16 kHz; mel: log-mel 80 bands at 100 Hz (core.audio.features.FeatureConfig)",
        "clips": entries,
        "skipped": [{"path": p, "reason": r} for p, r in skipped],
    }
    manifest_file.write_text(json.dumps(manifest, indent=1))
    return PrepareReport(len(entries), skipped, out_dir)
