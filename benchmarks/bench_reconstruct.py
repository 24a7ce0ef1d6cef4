"""Photo → textured head timing (median of N runs, warm process), with the stages apart, and the cold first run.

    .venv/bin/python benchmarks/bench_reconstruct.py [--runs 7] [--photo PATH]

Goal (issue 12): ≤ 1 s per photo on this 2-core CPU, the GLB written. The first photo in a process also pays for
loading the head asset and the face tile's texel map (printed apart as "one-time").
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
    from core.face.gltf import write_glb
    from core.face.head import eye_angles, face_texels, textured_head
    from core.face.ict import load_head
    from core.face.media import load_image
    from core.face.neutral import rest_of
    from core.face.reconstruct import reconstruct
    from core.face.tracker import to_camera_frame, track_image

    print(f"imports: {time.perf_counter() - t0:.3f} s")
    t0 = time.perf_counter()
    load_head()
    face_texels()
    eye_angles()
    print(f"one-time (head asset, texel map, eye layout): {time.perf_counter() - t0:.3f} s")

    stages: dict[str, list[float]] = {"decode": [], "track": [], "disentangle+rest": [], "head (fit, bake)": [],
                                      "export_glb": []}
    totals: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            a = time.perf_counter()
            rgb = load_image(args.photo)
            b = time.perf_counter()
            obs = track_image(rgb)
            c = time.perf_counter()
            parts = disentangle(to_camera_frame(obs.landmarks)[None], canonical_face())
            rest = rest_of(parts.expression_landmarks[0], canonical_face())
            d = time.perf_counter()
            head = textured_head(rgb, obs.landmarks, parts.expression_landmarks[0], rest)
            e = time.perf_counter()
            write_glb(head, Path(tmp) / "head.glb")
            f = time.perf_counter()
            for k, v in zip(stages, (b - a, c - b, d - c, e - d, f - e), strict=True):
                stages[k].append(v)
            a = time.perf_counter()
            write_glb(reconstruct(args.photo).full_head(), Path(tmp) / "again.glb")
            totals.append(time.perf_counter() - a)
    print(f"photo: {args.photo}  runs: {args.runs}")
    for k, times in stages.items():
        print(f"  {k:<18} median {statistics.median(times) * 1000:7.1f} ms")
    print(f"photo → head GLB (reconstruct + export), median {statistics.median(totals):.3f} s  (goal ≤ 1 s)")


if __name__ == "__main__":
    main()
