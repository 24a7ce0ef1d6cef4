"""The renderer against real frames: held-out GRID clips re-rendered from their first frame with their own motion.

    .venv/bin/python benchmarks/bench_render.py [--grid data/grid] [--clips 6] [--speed-frames 20]

For each clip (speaker s4 and the small held-out speakers, never seen by any model): the first video frame is the
photo; every frame's tracked motion — head pose relative to the first frame, and the expression as ARKit weights
fitted through the person's head (``core.face.ict.fit_head``) — drives the renderer; the rendered frames are
compared with the real ones: SSIM and PSNR on the face's box, mouth LMD (MediaPipe's lip points tracked on both,
pixels) and lip MSI (steadiness of the rendered lips; the real clip's beside it). Rows: the plain 3D-aware warp
(``core.render.warp``) — the baseline — and the warp repaired by the shipped refiner (``parley train renderer``).
Speed: frames per second at 256 and 512 px on the demo photo (median of ``--speed-frames``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    from core.cli import DEMO_FACE
    from core.data.splits import REST_SPEAKERS
    from core.face.ict import fit_head, load_head
    from core.face.media import iter_video_frames
    from core.face.neutral import clip_rest
    from core.face.tracker import track_image
    from core.metrics.image import psnr, ssim
    from core.metrics.landmarks import lmd, msi_lips
    from core.render.video import load_refiner, stage_from, stage_of
    from core.render.warp import WarpRenderer

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=str(REPO / "data" / "grid"))
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--speed-frames", type=int, default=20)
    args = ap.parse_args()

    stage = stage_from(DEMO_FACE)
    w = np.zeros(52, np.float32)
    nets = [None, *([load_refiner()] if load_refiner() is not None else [])]
    for size, net_ in [(s, n) for s in (256, 512) for n in nets]:
        r = WarpRenderer(stage, size, net_)
        times = []
        for k in range(args.speed_frames):
            t0 = time.perf_counter()
            r.frame(w, np.array([0.05 * np.sin(k), 0.1 * np.cos(k), 0, 0, 0, 0], np.float32))
            times.append(time.perf_counter() - t0)
        what = "warp + refiner" if net_ is not None else "plain warp"
        print(f"speed at {size} px, {what}: {1 / statistics.median(times):.1f} frames/s (median of {len(times)})")

    grid = Path(args.grid)
    if not (grid / "manifest.json").is_file():
        print(f"skipped GRID: {grid} is not prepared")
        return 0
    clips = [c for c in json.loads((grid / "manifest.json").read_text())["clips"]
             if c["speaker"] not in (*REST_SPEAKERS, "s1") and (REPO / c["source"]).is_file()]  # fmt: skip
    chosen = [c for c in clips if c["speaker"] == "s4"][: args.clips // 2]
    chosen += [c for c in clips if c["speaker"] != "s4"][: args.clips - len(chosen)]
    head_asset = load_head()
    net = load_refiner()
    methods = {"plain warp": None, **({"warp + refiner": net} if net is not None else {})}
    rows = []
    for (method, refiner), c in [(mr, c) for c in chosen for mr in methods.items()]:
        frames = list(iter_video_frames(REPO / c["source"]))
        with np.load(grid / c["file"]) as z:
            lm, pose = z["landmarks"], z["pose"]
        n = min(len(frames), len(lm))
        rest = clip_rest(lm)
        renderer = WarpRenderer(stage_of(frames[0], rest), max(frames[0].shape[:2]), refiner)
        identity = fit_head(rest, head_asset, expression=False).identity
        s_ssim, s_psnr, got, want = [], [], [], []
        for t in range(n):
            arkit = fit_head(lm[t], head_asset, identity=identity).arkit
            img = renderer.frame(arkit, (pose[t] - pose[0]).astype(np.float32))
            real = frames[t][: img.shape[0], : img.shape[1]]
            try:
                real_lm, got_lm = track_image(real).landmarks, track_image(img).landmarks
            except Exception:  # noqa: BLE001 — a frame the tracker misses is counted, not fatal
                continue
            lo = np.maximum(real_lm[:, :2].min(0).astype(int) - 8, 0)
            hi = real_lm[:, :2].max(0).astype(int) + 8
            box = (slice(lo[1], hi[1]), slice(lo[0], hi[0]))
            s_ssim.append(ssim(img[box], real[box]))
            s_psnr.append(psnr(img[box], real[box]))
            got.append(got_lm)
            want.append(real_lm)
        g, wnt = np.asarray(got), np.asarray(want)
        rows.append((method, c["key"], n, len(got), float(np.mean(s_ssim)), float(np.mean(s_psnr)), lmd(g, wnt),
                     msi_lips(g), msi_lips(wnt)))  # fmt: skip
    print("\neach clip from its first frame with its own tracked motion (means over frames)")
    print(f"{'method':16} {'clip':14} {'frames':>6} {'tracked':>7} {'SSIM':>6} {'PSNR':>6} {'mouth LMD px':>12} "
          f"{'lip MSI':>7} {'real MSI':>8}")  # fmt: skip
    for meth, k, n, tr, a, b, d, m1, m2 in rows:
        print(f"{meth:16} {k:14} {n:6d} {tr:7d} {a:6.3f} {b:6.2f} {d:12.2f} {m1:7.3f} {m2:8.3f}")
    for meth in methods:
        arr = np.asarray([r[4:] for r in rows if r[0] == meth])
        if len(arr):
            print(f"{meth:16} {'mean':14} {'':6} {'':7} {arr[:, 0].mean():6.3f} {arr[:, 1].mean():6.2f} "
                  f"{arr[:, 2].mean():12.2f} {arr[:, 3].mean():7.3f} {arr[:, 4].mean():8.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
