"""How far a face video's open mouths are from the mouths ``bench_render`` scores, on GRID (issue 22).

    .venv/bin/python scripts/mouth_views_gap.py [--grid data/grid] [--clips 6] [--tune]

``bench_render`` scores a GRID clip's inside-of-the-mouth colour over the real talker's 20 % most open frames, after
leaving out the frames the face-video match is shown (the clip's most open ones, ``open_frames``). The match can
only bring the drawn inside to what those views show. Per clip this prints:
- the views' inside (pooled, as ``core.render.inside`` reads it) against the scored frames' (``core.metrics.mouth``):
  CIELAB means, dE, the mean aperture of each set;
- the inside pixels per frame on the real frames and on the plain warp's frames of the same motion (photo colours,
  read by the tracker's lip ring on the drawn frame, as the bench reads them).

A large views → scored dE means the video's most open mouths are not the colour of the less open ones scored. Few
drawn pixels against many real ones mean the tracker's ring on the drawn mouth reads a thinner inside than on the
real one. Either way the match has little to transfer. ``--tune``: the rest speakers' clips, not the held-out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def clip_gap(grid: Path, clip: dict[str, object]) -> str:
    from bench_render import face_video_frames

    from core.face.geometry import mouth_aperture
    from core.face.ict import fit_head, load_head
    from core.face.media import iter_video_frames
    from core.face.mouth import open_lab
    from core.face.neutral import clip_rest
    from core.face.tracker import track_image
    from core.metrics.mouth import Inside, delta_e, inside, inside_mask, most_open, summarise
    from core.render.video import stage_of
    from core.render.warp import WarpRenderer

    frames = list(iter_video_frames(REPO / str(clip["source"])))
    with np.load(grid / str(clip["file"])) as z:
        lm, pose = z["landmarks"], z["pose"]
    n = min(len(frames), len(lm))
    _, shown, left_out = face_video_frames(lm[:n], pose[:n])  # as bench_render's grid_rows chooses them
    views = [(frames[t], track_image(frames[t]).landmarks) for t in shown]
    seen = open_lab(views)
    scored: list[int] = []
    real_in: list[Inside | None] = []
    apertures: list[float] = []
    for t in range(n):
        if t in left_out:
            continue
        try:
            ring = track_image(frames[t]).landmarks
        except Exception:  # noqa: BLE001 — a frame the tracker misses is left out, as the bench does
            continue
        scored.append(t)
        real_in.append(inside(frames[t], ring))
        apertures.append(float(mouth_aperture(ring[None])[0]))
    top = most_open(np.asarray(apertures))
    real = summarise([real_in[i] for i in top])
    if real is None or not len(seen):
        return f"{clip['key']:12s} too little of the inside seen"
    rest = clip_rest(lm)
    head = load_head()
    identity = fit_head(rest, head, expression=False).identity
    renderer = WarpRenderer(stage_of(frames[0], rest), max(frames[0].shape[:2]))
    drawn = []
    for i in top:
        t = scored[i]
        img = renderer.frame(fit_head(lm[t], head, identity=identity).arkit, (pose[t] - pose[0]).astype(np.float32))
        try:
            drawn.append(int(inside_mask(img.shape, track_image(img).landmarks).sum()))
        except Exception:  # noqa: BLE001
            continue
    real_px = np.mean([0 if r is None else r.pixels for r in (real_in[i] for i in top)])
    view_ap = float(np.mean(mouth_aperture(np.asarray([v[1] for v in views]))))
    return (f"{clip['key']:12s} {len(views):5d} {np.array2string(seen.mean(0), precision=1):>18s} "
            f"{np.array2string(real.lab, precision=1):>18s} {delta_e(seen.mean(0), real.lab):6.1f} "
            f"{view_ap:8.3f} {float(np.mean(np.asarray(apertures)[top])):8.3f} "
            f"{len(seen) / max(1, len(views)):8.0f} {real_px:8.0f} {np.mean(drawn) if drawn else float('nan'):8.0f}")


def main() -> int:
    from bench_render import rest_clips

    from core.train.renderer import bench_clips

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=str(REPO / "data" / "grid"))
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--tune", action="store_true", help="the rest speakers' clips, not the held-out ones")
    args = ap.parse_args()
    grid = Path(args.grid)
    if not (grid / "manifest.json").is_file():
        print(f"no prepared GRID at {grid}: run `parley data prepare ../shared/data/grid --out {grid}` first")
        return 1
    clips = [c for c in json.loads((grid / "manifest.json").read_text())["clips"] if (REPO / c["source"]).is_file()]
    chosen = rest_clips(clips, args.clips) if args.tune else bench_clips(clips, args.clips)
    print("clip         views  views' inside Lab  scored inside Lab     dE  ap views ap scored"
          "  px/view  px real px drawn")
    for c in chosen:
        print(clip_gap(grid, c), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
