"""The renderer's lower face at the turns a result makes: each photo (or a video's frame) drawn by the plain warp at
rest, turned left and right, chin lifted and lowered, cropped on the jaw and neck, one row per person, as one PNG —
where a jaw's second edge, a tear or skin smeared off the silhouette shows first.

    .venv/bin/python scripts/render_turns.py PHOTO_OR_VIDEO ... --out out/turns.png [--size 512] [--yaw 0.2]
    .venv/bin/python scripts/render_turns.py --faces-from ../shared/data --dev-av-only --out out/turns.png

The default turns (0.2 rad of yaw, 0.15 of pitch) are about the largest ``parley animate`` gives the demo voice
(its 95th percentile |yaw| is 0.16 rad). ``--faces-from`` takes the faces ``scripts/head_gallery.py`` does; the PNG
goes outside the repository (dev-av stays out of it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def poses(yaw: float, pitch: float) -> list[tuple[str, np.ndarray]]:
    def p(x: float, y: float) -> np.ndarray:
        return np.array([x, y, 0.0, 0.0, 0.0, 0.0], np.float32)

    return [("rest", p(0, 0)), ("yaw -", p(0, -yaw)), ("yaw +", p(0, yaw)), ("chin up", p(-pitch, 0)),
            ("chin down", p(pitch, 0))]


def row(path: Path, size: int, yaw: float, pitch: float, crop: int = 240) -> np.ndarray:
    import cv2
    from head_gallery import frame_of

    from core.face.tracker import track_image
    from core.render.video import stage_of
    from core.render.warp import WarpRenderer

    rgb = frame_of(path)
    renderer = WarpRenderer(stage_of(rgb), size)
    lm = track_image(rgb).landmarks[:, :2] * renderer.scale
    half = int(0.45 * np.linalg.norm(lm[234] - lm[454]))
    cx, cy = np.round(lm[152]).astype(int)  # the chin
    tiles = []
    for name, pose in poses(yaw, pitch):
        img = renderer.frame(renderer.stage.head.photo_arkit if renderer.stage.head.photo_arkit is not None
                             else np.zeros(52, np.float32), pose)
        pad = np.pad(img, ((2 * half, 2 * half), (2 * half, 2 * half), (0, 0)), mode="edge")
        tile = pad[cy + 2 * half - half : cy + 2 * half + half // 2, cx + half : cx + 3 * half]
        tile = cv2.resize(tile, (crop, crop * 3 // 4), interpolation=cv2.INTER_AREA)
        cv2.putText(tile, name, (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    out = np.hstack(tiles)
    cv2.putText(out, f"{path.parent.name}/{path.stem}", (5, out.shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                (255, 255, 255), 1, cv2.LINE_AA)
    return out


def main() -> int:
    from head_gallery import sources
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("faces", nargs="*", help="photos or videos")
    ap.add_argument("--faces-from", help="a data folder holding grid/ and dev-av/")
    ap.add_argument("--dev-av-only", action="store_true", help="with --faces-from: the dev-av clips alone")
    ap.add_argument("--out", default="out/turns.png")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--yaw", type=float, default=0.2)
    ap.add_argument("--pitch", type=float, default=0.15)
    args = ap.parse_args()
    found = sources(Path(args.faces_from)) if args.faces_from else []
    paths = [Path(p) for p in args.faces] + [p for p in found if not args.dev_av_only or p.parent.name == "dev-av"]
    if not paths:
        ap.error("give photos or videos, or --faces-from")
    rows = [row(p, args.size, args.yaw, args.pitch) for p in paths]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.vstack(rows)).save(args.out)
    print(f"{len(rows)} people → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
