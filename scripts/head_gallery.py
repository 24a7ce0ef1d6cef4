"""Heads of many people side by side: each photo (or a video's frame) beside its head's front, three-quarter and
profile views, as one PNG — what a person looks at before any number.

    .venv/bin/python scripts/head_gallery.py PHOTO_OR_VIDEO ... --out out/gallery.png [--size 256]
    .venv/bin/python scripts/head_gallery.py --faces-from ../shared/data --out out/gallery.png

``--faces-from`` takes frame 20 of the first video of each GRID speaker and of each dev-av clip under that folder
(light and dark skin, long and short hair, glasses, bald); the PNG goes outside the repository (dev-av stays out of
it). Each row is labelled with the notes the reconstruction left (hair found or not).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")


def sources(folder: Path) -> list[Path]:
    grid = sorted(p for p in (folder / "grid").glob("s*") if p.is_dir())
    picked = [next(iter(sorted(s.glob("*.mp4"))), None) for s in grid]
    return [p for p in picked if p is not None] + sorted((folder / "dev-av").glob("*.mp4"))


def frame_of(path: Path, index: int = 20) -> np.ndarray:
    from core.face.media import is_video, iter_video_frames, load_image

    if not is_video(path):
        return load_image(path)
    frames = list(iter_video_frames(path, max_frames=index + 1))
    return frames[-1]


def row(path: Path, size: int) -> np.ndarray:
    import cv2

    from core.face.reconstruct import reconstruct_image
    from core.face.shade import turnaround

    rgb = frame_of(path)
    head = reconstruct_image(rgb, source=str(path)).full_head()
    views = turnaround(head, size)
    photo = cv2.resize(rgb, (round(rgb.shape[1] * size / rgb.shape[0]), size), interpolation=cv2.INTER_AREA)
    hair = "hair" if any(m.name == "hair" for m in head.materials) else "bald"
    label = f"{path.parent.name}/{path.stem}  {hair}"
    out = np.hstack([photo, views])
    cv2.putText(out, label, (6, size - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def main() -> int:
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("faces", nargs="*", help="photos or videos")
    ap.add_argument("--faces-from", help="a data folder holding grid/ and dev-av/")
    ap.add_argument("--out", default="out/gallery.png")
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args()
    paths = [Path(p) for p in args.faces] + (sources(Path(args.faces_from)) if args.faces_from else [])
    if not paths:
        ap.error("give photos or videos, or --faces-from")
    rows = []
    for p in paths:
        rows.append(row(p, args.size))
        print(f"{p}: done", flush=True)
    width = max(r.shape[1] for r in rows)
    sheet = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(args.out)
    print(f"{len(rows)} people → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
