"""Fit the lips → inside-of-the-mouth colour map (``core/assets/mouth_colours.json``) on GRID's rest speakers.

    .venv/bin/python scripts/fit_mouth_colours.py [--grid data/grid] [--s1-clips 8]

Per clip of the rest-model speakers (``core.data.splits.REST_SPEAKERS``: s1, s2, s3, s5, s20, s22 — never the
held-out speakers ``bench_render`` scores, never dev-av): the lips' median CIELAB colour on the clip's first frame
(what a photo shows), and the mean colour of the non-teeth inside of the mouth and of its teeth over the clip's
20 % most open frames (``core.metrics.mouth``'s rule). Each Lab channel of the inside is fitted as
offset + gain × the lips' channel by least squares; the teeth's lit colour is
the 90th percentile of L* and the median a*, b* of every clip's teeth pixels (``core.face.mouth.lit_teeth``).
Then, through the renderer: the same clips re-rendered from their first frame with their own motion (the ICT head's
tongue, gums and cavity in their shadow, the teeth it shows), and the Lab offset of the inside's colour that brings
the rendered open mouth's mean colour to the real one's (``render_offset``; ``--rounds`` render → fit rounds, each
speaker weighted equally).
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def clip_colours(source: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """(lips Lab on frame 0, non-teeth inside Lab sum, teeth Lab sum, count of inside pixels, teeth count) of a clip."""
    from core.face.geometry import mouth_aperture
    from core.face.media import iter_video_frames
    from core.face.mouth import image_lab, lip_lab, lip_regions
    from core.face.tracker import MediaPipeTracker
    from core.metrics.mouth import most_open, teeth_pixels

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
        is_teeth = teeth_pixels(lab)
        inside.append(lab[~is_teeth])
        teeth.append(lab[is_teeth])
    if lips is None or not inside:
        return None
    return lips, np.concatenate(inside).mean(0), np.concatenate(teeth), len(np.concatenate(inside))


def rendered_inside(grid: Path, clip: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(rendered inside Lab, real inside Lab, rendered non-teeth share) over a clip's 20 % most open frames: the clip
    re-rendered from its first frame with its own tracked motion (as ``bench_render`` scores held-out clips), the
    inside read from MediaPipe's lips on each image (``core.metrics.mouth``)."""
    from core.face.geometry import mouth_aperture
    from core.face.ict import fit_head, load_head
    from core.face.media import iter_video_frames
    from core.face.neutral import clip_rest
    from core.face.tracker import track_image
    from core.metrics.mouth import inside, most_open, summarise
    from core.render.video import stage_of
    from core.render.warp import WarpRenderer

    frames = list(iter_video_frames(REPO / clip["source"]))
    with np.load(grid / clip["file"]) as z:
        lm, pose = z["landmarks"], z["pose"]
    n = min(len(frames), len(lm))
    rest = clip_rest(lm[:n])
    renderer = WarpRenderer(stage_of(frames[0], rest), max(frames[0].shape[:2]))
    identity = fit_head(rest, load_head(), expression=False).identity
    got, real = [], []
    for t in most_open(mouth_aperture(lm[:n])):
        arkit = fit_head(lm[t], load_head(), identity=identity).arkit
        img = renderer.frame(arkit, (pose[t] - pose[0]).astype(np.float32))
        try:
            got.append(inside(img, track_image(img).landmarks))
            real.append(inside(frames[t], track_image(frames[t]).landmarks))
        except Exception:  # noqa: BLE001 — a frame the tracker misses is left out
            continue
    mine, theirs = summarise(got), summarise(real)
    if mine is None or theirs is None:
        return None
    return mine.lab, theirs.lab, 1.0 - mine.teeth_share


def render_offset(grid: Path, clips: list[dict[str, Any]], out: Path, rounds: int = 2,
                  ) -> tuple[np.ndarray, list[float]]:
    """The Lab offset of the inside's materials that brings the rendered open mouth to the real one's mean colour
    on ``clips`` (each speaker weighted equally); ``rounds`` of render → fit, since the shadow scales L*. Each
    round's offset is written into the colour map ``out``, which the renderer reads. Returns the offset and the mean
    dE through the renderer before each round and after the last."""
    from core.face import mouth
    from core.face.mouth import colour_model
    from core.metrics.mouth import delta_e

    total = np.zeros(3)
    errors: list[float] = []
    speakers = [c["speaker"] for c in clips]
    for k in range(rounds + 1):
        tried = [(c, rendered_inside(grid, c)) for c in clips]
        got = [(c, g) for c, g in tried if g is not None]
        weight = np.array([1.0 / speakers.count(c["speaker"]) for c, _ in got])
        diff = np.array([g[1] - g[0] for _, g in got])  # real − rendered
        share = np.array([g[2] for _, g in got])
        errors.append(float(np.average([delta_e(g[0], g[1]) for _, g in got], weights=weight)))
        print(f"through the renderer, round {k}: offset {np.round(total, 2)}, mean dE {errors[-1]:.2f} "
              f"({len(got)} clips)")
        if k == rounds:
            break
        step = (weight * share) @ diff / max(float((weight * share**2).sum()), 1e-6)
        total = total + step
        model = json.loads(out.read_text())
        model["render_offset"] = total.tolist()
        out.write_text(json.dumps(model, indent=1) + "\n")
        mouth.ASSET = out
        colour_model.cache_clear()
    return total, errors


def main() -> int:
    from core.data.splits import REST_SPEAKERS
    from core.face.mouth import lit_teeth

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=str(REPO / "data" / "grid"))
    ap.add_argument("--s1-clips", type=int, default=8, help="clips of the training speaker s1 (others: all)")
    ap.add_argument("--out", default=str(REPO / "core" / "assets" / "mouth_colours.json"))
    ap.add_argument("--rounds", type=int, default=2, help="render → fit rounds for the render offset (0: none)")
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
    out = Path(args.out)
    out.write_text(json.dumps(model, indent=1) + "\n")
    print(f"inside = {np.round(offset, 2)} + {np.round(gain, 3)} × lips   fit dE mean {err.mean():.2f} max "
          f"{err.max():.2f} over {len(used)} clips; teeth mean {np.round(model['teeth_mean'], 1)} "
          f"({len(all_teeth)} px) → {args.out}")
    if args.rounds:
        shift, errors = render_offset(grid, [c for c in chosen if c["key"] in used], out, args.rounds)
        model["render_offset"] = shift.tolist()
        model["provenance"]["render_dE_mean"] = {"before": errors[0], "after": errors[-1]}  # type: ignore[index]
        out.write_text(json.dumps(model, indent=1) + "\n")
        print(f"render offset {np.round(shift, 2)}: through the renderer, mean dE {errors[0]:.2f} → {errors[-1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
