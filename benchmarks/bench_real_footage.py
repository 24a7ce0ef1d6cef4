"""Lip sync, head motion and blinks against real talkers: the dev-av interview clips and GRID's held-out speakers.

    .venv/bin/python benchmarks/bench_real_footage.py [--dev-av ../shared/data/dev-av] [--grid data/grid]
        [--models DIR] [--articulation 1] [--out out/bench_real]

Each clip's own audio is animated with the clip's first frame as the face (as a user would give a photo), and
compared with the clip's tracked landmarks (MediaPipe, jitter-filtered, pose removed: ``parley data prepare``,
cached under ``--out``). Per clip: mouth aperture r at lag 0 and the best lag (±5 frames), amplitude ratio
(std/std), p5–p95 range ratio, lip-closure recall (frames where the truth's lips touch in which the prediction's
do too, ±1 frame), head rotation speed ratio per axis (prediction / truth), blinks per minute (prediction). One
PNG per clip: truth vs prediction aperture with the audio envelope. Groups: dev-av, GRID s4, GRID small held-out
speakers (those that set no prior anywhere: ``REST_SPEAKERS`` are left out). What is absent (no ``../shared``,
GRID not prepared) is skipped with a line saying so.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    group: str
    clip: str
    seconds: float
    r0: float
    lag: int
    r_best: float
    amp: float
    rng: float
    closure: float
    speed: np.ndarray  # (3,) prediction / truth per axis
    blinks: float
    energy_r: float


def score_clip(group: str, clip, m, articulation: float, plot_dir: Path | None) -> Row:  # type: ignore[no-untyped-def]
    from core.animate import Reference, animate
    from core.audio.decode import Audio
    from core.audio.features import frame_energy
    from core.face.geometry import mouth_aperture
    from core.metrics.motion import axis_speeds, blinks_per_minute
    from core.metrics.sync import closure_recall, pearson, range_ratio, sync_scores

    audio = Audio(clip.audio, 16000, 16000, 1, clip.key)
    ref = Reference.from_frames(clip.landmarks[0], clip.key)  # the first frame as the photo
    res = animate(audio, ref, fps=clip.fps, models=m, articulation=articulation)
    n = min(res.frames, clip.frames)
    pred, truth = mouth_aperture(res.landmarks[:n]), clip.aperture[:n]
    s = sync_scores(pred, truth, max_lag=5)
    true_speed = axis_speeds(clip.pose[:n], clip.fps)
    speed = axis_speeds(res.pose[:n], clip.fps) / np.maximum(true_speed, 1e-9)
    energy = frame_energy(clip.audio, clip.fps)[:n]
    row = Row(group, clip.key, n / clip.fps, s.r_lag0, s.best_lag, s.r_best, s.amplitude_ratio,
              range_ratio(pred, truth),
              closure_recall(pred, truth), speed, blinks_per_minute(res.blink, res.fps),
              pearson(energy, truth))  # fmt: skip
    if plot_dir is not None:
        plot_clip(row, pred, truth, energy, clip.fps, plot_dir / f"{group}_{clip.key}.png")
    return row


def plot_clip(row: Row, pred: np.ndarray, truth: np.ndarray, energy: np.ndarray, fps: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from core.metrics.sync import LIPS_CLOSED

    t = np.arange(len(truth)) / fps
    span = min(len(t), int(20 * fps))  # at most 20 s, so a syllable stays visible
    fig, ax = plt.subplots(figsize=(11, 3.4))
    e = energy[:span]
    env = (e - e.min()) / max(float(np.ptp(e)), 1e-9) * float(np.percentile(truth, 99))
    ax.fill_between(t[:span], 0, env, color="0.85", label="audio envelope (log energy)")
    ax.plot(t[:span], truth[:span], color="k", lw=1.3, label="real talker (tracked)")
    ax.plot(t[:span], pred[:span], color="tab:red", lw=1.3, label="Parley")
    ax.axhline(LIPS_CLOSED, color="tab:blue", ls=":", lw=1, label="lips touch below")
    ax.set_xlabel("seconds")
    ax.set_ylabel("mouth aperture")
    ax.set_title(f"{row.group} {row.clip}: r {row.r0:.2f}, amplitude {row.amp:.2f}, range {row.rng:.2f}, "
                 f"closures {row.closure:.0%}", fontsize=10)  # fmt: skip
    ax.legend(loc="upper right", fontsize=7, ncol=4)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def load_group_clips(data: Path):  # type: ignore[no-untyped-def]
    from core.face.canonical import canonical_face
    from core.models.pca import LandmarkPCA
    from core.train.data import load_clips

    pca = LandmarkPCA.load(REPO / "core" / "assets" / "landmark_pca.safetensors")
    return load_clips(data, pca, canonical_face(), ("val_unseen",))["val_unseen"]


def print_table(rows: list[Row]) -> None:
    head = (f"{'group':9} {'clip':24} {'s':>5} {'r lag0':>6} {'lag':>4} {'r best':>6} {'amp':>5} {'range':>5} "
            f"{'close':>6} "
            f"{'speed x/y/z':>16} {'blink/min':>9} {'energy r':>8}")  # fmt: skip
    print(head)
    fmt = lambda v: "   —" if np.isnan(v) else f"{v:4.0%}"  # noqa: E731
    for r in rows:
        sp = "/".join(f"{v:.2f}" for v in r.speed)
        print(f"{r.group:9} {r.clip[:24]:24} {r.seconds:5.1f} {r.r0:6.3f} {r.lag:4d} {r.r_best:6.3f} {r.amp:5.2f} "
              f"{r.rng:5.2f} "
              f"{fmt(r.closure):>6} {sp:>16} {r.blinks:9.1f} {r.energy_r:8.3f}")  # fmt: skip
    print("\nPer group (mean over clips; closure recall over clips where the truth closes):")
    print(f"{'group':9} {'clips':>5} {'r lag0':>6} {'|lag|':>5} {'r best':>6} {'amp':>5} {'amp min–max':>11} "
          f"{'range':>5} "
          f"{'close':>6} {'speed x/y/z':>16} {'blink/min':>9}")  # fmt: skip
    for g in dict.fromkeys(r.group for r in rows):
        rs = [r for r in rows if r.group == g]
        amps = [r.amp for r in rs]
        cl = [r.closure for r in rs if not np.isnan(r.closure)]
        sp = "/".join(f"{v:.2f}" for v in np.mean([r.speed for r in rs], axis=0))
        print(f"{g:9} {len(rs):5d} {np.mean([r.r0 for r in rs]):6.3f} {np.mean([abs(r.lag) for r in rs]):5.1f} "
              f"{np.mean([r.r_best for r in rs]):6.3f} "
              f"{np.mean(amps):5.2f} {min(amps):5.2f}–{max(amps):4.2f} {np.mean([r.rng for r in rs]):5.2f} "
              f"{fmt(float(np.mean(cl)) if cl else float('nan')):>6} {sp:>16} "
              f"{np.mean([r.blinks for r in rs]):9.1f}")  # fmt: skip
    print("targets (issue 10): dev-av r ≥ 0.4 and amplitude 0.7–1.3 on every clip; GRID held-out r ≥ 0.6")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev-av", default=str(REPO.parent / "shared" / "data" / "dev-av"))
    ap.add_argument("--grid", default=str(REPO / "data" / "grid"), help="GRID prepared by `parley data prepare`")
    ap.add_argument("--models", help="checkpoint folder (default: the shipped ones)")
    ap.add_argument("--articulation", type=float, default=1.0)
    ap.add_argument("--out", default=str(REPO / "out" / "bench_real"))
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    import torch

    from core.animate import default_models, load_models
    from core.data.prepare import prepare
    from core.data.splits import REST_SPEAKERS

    torch.set_num_threads(2)
    m = load_models(args.models) if args.models else default_models()
    out = Path(args.out)
    plots = None if args.no_plots else out / "plots"
    groups: list[tuple[str, list]] = []  # type: ignore[type-arg]
    dev = Path(args.dev_av)
    if dev.is_dir():
        cache = out / "dev-av"
        if not (cache / "manifest.json").is_file():
            prepare([dev], cache)
        groups.append(("dev-av", load_group_clips(cache)))
    else:
        print(f"skipped dev-av: {dev} is absent")
    grid = Path(args.grid)
    if (grid / "manifest.json").is_file():
        val = load_group_clips(grid)
        groups.append(("grid-s4", [c for c in val if c.speaker == "s4"]))
        groups.append(("grid-small", [c for c in val if c.speaker != "s4" and c.speaker not in REST_SPEAKERS]))
    else:
        print(f"skipped GRID: {grid} is not prepared (parley data prepare ../shared/data/grid --out {grid})")
    rows = [score_clip(g, c, m, args.articulation, plots) for g, clips in groups for c in clips]
    if not rows:
        print("nothing to measure")
        return 0
    print_table(rows)
    if plots is not None:
        print(f"\nplots → {plots}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
