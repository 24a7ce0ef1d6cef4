"""Photo → textured mesh timing (median of N runs, warm process), with the stages apart.

    .venv/bin/python benchmarks/bench_reconstruct.py [--runs 7] [--photo PATH]

Goal (issue 2): ≤ 0.5 s per photo on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")


def main() -> None:
    from core.cli import DEMO_FACE

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--photo", default=str(DEMO_FACE))
    args = ap.parse_args()

    t0 = time.perf_counter()
    from core.face.canonical import canonical_face
    from core.face.geometry import disentangle
    from core.face.media import load_image
    from core.face.mesh import textured_face
    from core.face.reconstruct import reconstruct
    from core.face.topology import face_triangles
    from core.face.tracker import to_camera_frame, track_image

    face_triangles()
    print(f"imports + one-time topology: {time.perf_counter() - t0:.3f} s")

    stages: dict[str, list[float]] = {"decode": [], "track": [], "disentangle": [], "mesh": [], "export_glb": []}
    totals: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            a = time.perf_counter()
            rgb = load_image(args.photo)
            b = time.perf_counter()
            obs = track_image(rgb)
            c = time.perf_counter()
            parts = disentangle(to_camera_frame(obs.landmarks)[None], canonical_face())
            d = time.perf_counter()
            face = textured_face(rgb, obs.landmarks, parts.expression_landmarks[0])
            e = time.perf_counter()
            face.export(Path(tmp) / "face.glb")
            f = time.perf_counter()
            for k, v in zip(stages, (b - a, c - b, d - c, e - d, f - e), strict=True):
                stages[k].append(v)
            a = time.perf_counter()
            reconstruct(args.photo).face.export(Path(tmp) / "again.glb")
            totals.append(time.perf_counter() - a)
    print(f"photo: {args.photo}  runs: {args.runs}")
    for k, v in stages.items():
        print(f"  {k:<12} median {statistics.median(v) * 1000:7.1f} ms")
    print(f"photo → GLB (reconstruct + export), median {statistics.median(totals):.3f} s  (goal ≤ 0.5 s)")


if __name__ == "__main__":
    main()
