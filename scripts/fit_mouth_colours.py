"""Fit the lips → inside-of-the-mouth colour map (``core/assets/mouth_colours.json``) on GRID's rest speakers.

    .venv/bin/python scripts/fit_mouth_colours.py [--grid data/grid] [--s1-clips 8]

Per clip of the rest-model speakers (``core.data.splits.REST_SPEAKERS``: s1, s2, s3, s5, s20, s22 — never the
held-out speakers ``bench_render`` scores, never dev-av): the lips' median CIELAB colour on the clip's first frame
(what a photo shows), and the mean colour of the non-teeth inside of the mouth and of its teeth over the clip's
20 % most open frames (``core.metrics.mouth``'s rule). Each Lab channel of the inside is fitted as
offset + gain × the lips' channel by least squares; the teeth's lit colour is
the 90th percentile of L* and the median a*, b* of every clip's teeth pixels (``core.face.mouth.lit_teeth``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def clip_colours(source: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """(lips Lab on frame 0, non-teeth inside Lab sum, teeth Lab sum, count of inside pixels, teeth count) of a clip."""
    from core.face.geometry import mouth_aperture
    from core.face.media import iter_video_frames
    from core.face.mouth import image_lab, lip_lab, lip_regions
    from core.face.tracker import MediaPipeTracker
    from core.metrics.mouth import TEETH_CHROMA, TEETH_L, most_open

    frames = list(iter_video_frames(source))
    with MediaPipeTracker(video=True) as tracker:
        found = [tracker.track(f) for f in frames]
    if found[0] is None:
        return None
    lips = lip_lab(frames[0], found[0].landmarks)
    ap = np.array([np.nan if o is None else float(mouth_aperture(o.landmarks[None])[0]) for o in found])
    inside, teeth = [], []
    for i in most_open(ap):
        obs = found[i]
        if obs is None:
            continue
        sel, _ = lip_regions(frames[i].shape, obs.landmarks)
        lab = image_lab(frames[i])[sel]
        is_teeth = (lab[:, 0] >= TEETH_L) & (np.hypot(lab[:, 1], lab[:, 2]) <= TEETH_CHROMA)
        inside.append(lab[~is_teeth])
        teeth.append(lab[is_teeth])
    if lips is None or not inside:
        return None
    return lips, np.concatenate(inside).mean(0), np.concatenate(teeth), len(np.concatenate(inside))


def main() -> int:
    from core.data.splits import REST_SPEAKERS
    from core.face.mouth import lit_teeth

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=str(REPO / "data" / "grid"))
    ap.add_argument("--s1-clips", type=int, default=8, help="clips of the training speaker s1 (others: all)")
    ap.add_argument("--out", default=str(REPO / "core" / "assets" / "mouth_colours.json"))
    args = ap.parse_args()
    grid = Path(args.grid)
    clips = json.loads((grid / "manifest.json").read_text())["clips"]
    chosen = []
    for s in REST_SPEAKERS:
        mine = [c for c in clips if c["speaker"] == s and (REPO / c["source"]).is_file()]
        chosen += mine[: args.s1_clips] if s == "s1" else mine
    lips, inside, teeth, used = [], [], [], []
    for c in chosen:
        got = clip_colours(REPO / c["source"])
        if got is None:
            continue
        lips.append(got[0])
        inside.append(got[1])
        teeth.append(got[2])
        used.append(c["key"])
        print(f"{c['key']:14} lips {np.round(got[0], 1)}  inside {np.round(got[1], 1)}  teeth px {len(got[2])}")
    x, y = np.asarray(lips), np.asarray(inside)
    gain, offset = [], []
    for ch in range(3):
        a = np.stack([x[:, ch], np.ones(len(x))], 1)
        (g, o), *_ = np.linalg.lstsq(a, y[:, ch], rcond=None)
        gain.append(float(g))
        offset.append(float(o))
    fit = offset + x * np.asarray(gain)
    err = np.linalg.norm(fit - y, axis=1)
    all_teeth = np.concatenate(teeth)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    model = {"inside_gain": gain, "inside_offset": offset, "lips_mean": x.mean(0).tolist(),
             "teeth_mean": lit_teeth(all_teeth).tolist(),
             "provenance": {"command": "scripts/fit_mouth_colours.py", "commit": commit, "clips": used,
                            "teeth_pixels": int(len(all_teeth)),
                            "fit_dE_mean": float(err.mean()), "fit_dE_max": float(err.max())}}
    Path(args.out).write_text(json.dumps(model, indent=1) + "\n")
    print(f"inside = {np.round(offset, 2)} + {np.round(gain, 3)} × lips   fit dE mean {err.mean():.2f} max "
          f"{err.max():.2f} over {len(used)} clips; teeth mean {np.round(model['teeth_mean'], 1)} "
          f"({len(all_teeth)} px) → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
