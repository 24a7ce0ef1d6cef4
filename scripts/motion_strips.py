"""Strips of frames to look at the motion: the textured head animated by each clip's voice, one row per clip.

    .venv/bin/python scripts/motion_strips.py CLIP… [--face PHOTO] [--start 2] [--seconds 3] [--every 0.25]
        [--out out/strips.png] [--size 192]

Each clip (audio, or a video's sound) animates the face (default: the built-in portrait) with the shipped models
and default settings; ``--seconds`` from ``--start`` are rendered every ``--every`` seconds (head pose, blinks,
gaze, brows and mouth from the result's ARKit curves), a row per clip, with the frame times above each row.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> int:
    import cv2
    from PIL import Image

    from core.animate import animate
    from core.face.reconstruct import reconstruct
    from core.face.shade import HeadRenderer
    from core.reference import DEMO_FACE, reference_of

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clips", nargs="+")
    ap.add_argument("--face", default=str(DEMO_FACE))
    ap.add_argument("--start", type=float, default=2.0)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--every", type=float, default=0.25)
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--out", default="out/strips.png")
    args = ap.parse_args()
    rec = reconstruct(args.face)
    ref = reference_of(rec, Path(args.face))
    renderer = HeadRenderer(rec.full_head(), args.size)
    rows = []
    for clip in args.clips:
        r = animate(clip, ref)
        t0 = min(args.start, max(0.0, r.frames / r.fps - args.seconds))
        times = np.arange(t0, min(t0 + args.seconds, r.frames / r.fps) - 1e-6, args.every)
        frames = []
        for t in times:
            k = int(t * r.fps)
            img = np.ascontiguousarray(renderer.render(r.arkit[k], r.pose[k]))
            cv2.putText(img, f"{t:.2f}s", (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (230, 230, 230), 1, cv2.LINE_AA)
            frames.append(img)
        row = np.concatenate(frames, axis=1)
        cv2.putText(row, Path(clip).name[:40], (6, args.size - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 220, 120),
                    1, cv2.LINE_AA)
        rows.append(row)
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(out)
    print(f"{len(rows)} clips × {len(times)} frames → {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
