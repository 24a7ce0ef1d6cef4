"""Are the 27 alignment points really the ones that move least? Measured on prepared GRID clips.

    .venv/bin/python benchmarks/bench_stable_points.py data/grid [--clips 300]

For every landmark, its motion within a clip (std over frames in the canonical frame, mm) after the
rigid alignment; prints where the chosen points rank among all 468, next to the lips.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from core.face.geometry import STABLE_POINTS
from core.metrics.regions import LIPS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--clips", type=int, default=300)
    args = ap.parse_args()
    clips = json.loads((args.data / "manifest.json").read_text())["clips"][: args.clips]
    motion = np.zeros(468)
    for c in clips:
        lm = np.load(args.data / c["file"])["landmarks"]
        motion += np.linalg.norm(lm.std(axis=0), axis=1)
    motion = motion / len(clips) * 1000.0
    rank = np.argsort(np.argsort(motion))  # 0 = steadiest
    s = list(STABLE_POINTS)
    print(f"{len(clips)} clips; within-clip motion after alignment (mm, mean over clips)")
    quiet = int((rank[s] < 117).sum())
    print(f"  chosen 27 points: median {np.median(motion[s]):.3f}, max {motion[s].max():.3f}; "
          f"median rank {int(np.median(rank[s]))} of 468, {quiet} in the steadiest quarter")
    print(f"  all points: median {np.median(motion):.3f}; lips: median {np.median(motion[list(LIPS)]):.3f}")


if __name__ == "__main__":
    main()
