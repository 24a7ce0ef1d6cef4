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
from dataclasses import dataclass, field
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
    spread: np.ndarray = field(default_factory=lambda: np.full(3, np.nan))  # (3,) rotation std, prediction / truth
    true_blinks: float = float("nan")  # the talker's own blinks per minute (tracked lids)
    ref_spread: np.ndarray = field(default_factory=lambda: np.full(3, np.nan))  # second half, first half as video
    ref_speed: np.ndarray = field(default_factory=lambda: np.full(3, np.nan))


def score_clip(group: str, clip, m, articulation: float, plot_dir: Path | None,  # type: ignore[no-untyped-def]
               style: tuple | None = None, text: str | None = None) -> Row:  # type: ignore[type-arg]
    from core.animate import animate
    from core.audio.decode import Audio
    from core.audio.features import frame_energy, model_features
    from core.face.geometry import mouth_aperture
    from core.metrics.motion import axis_speeds, blink_events, blinks_per_minute
    from core.metrics.sync import closure_recall, pearson, range_ratio, sync_scores
    from core.models.spontaneous import HeadStyle
    from core.reference import Reference

    audio = Audio(clip.audio, 16000, 16000, 1, clip.key)
    ref = Reference.from_frames(clip.landmarks[0], clip.key)  # the first frame as the photo
    ref.style = style  # None: the shipped default; the benchmark passes dev-av's leave-one-out mean for dev-av
    res = animate(audio, ref, fps=clip.fps, models=m, articulation=articulation, text=text)
    n = min(res.frames, clip.frames)
    pred, truth = mouth_aperture(res.landmarks[:n]), clip.aperture[:n]
    s = sync_scores(pred, truth, max_lag=5)
    true_speed = axis_speeds(clip.pose[:n], clip.fps)
    speed = axis_speeds(res.pose[:n], clip.fps) / np.maximum(true_speed, 1e-9)
    energy = frame_energy(clip.audio, clip.fps)[:n]
    row = Row(group, clip.key, n / clip.fps, s.r_lag0, s.best_lag, s.r_best, s.amplitude_ratio,
              range_ratio(pred, truth),
              closure_recall(pred, truth), speed, blinks_per_minute(res.blink, res.fps),
              pearson(energy, truth))
    row.spread = np.degrees(res.pose[:n, :3].std(0)) / np.maximum(np.degrees(clip.pose[:n, :3].std(0)), 1e-9)
    row.true_blinks = len(blink_events(clip.openness[:n])) / (n / clip.fps / 60.0)
    if n / clip.fps >= 6.0:  # few-shot style: the clip's first half as the reference video, its second half judged
        h = n // 2
        half = int(round(h / clip.fps * 16000))
        k = min(50, h)
        first = Reference.from_frames(clip.landmarks[0], clip.key)
        first.motion = (model_features(clip.audio[: int(round(k / clip.fps * 16000))]),
                        (clip.pose[:k] - clip.pose[:k].mean(0)).astype(np.float32), clip.fps)
        st = HeadStyle.measure(clip.pose[:h], clip.fps)
        first.style = (st.rot_std, st.rot_speed, st.trans_std)
        second = animate(Audio(clip.audio[half:], 16000, 16000, 1, clip.key), first, fps=clip.fps, models=m)
        got, want = HeadStyle.measure(second.pose, clip.fps), HeadStyle.measure(clip.pose[h:n], clip.fps)
        row.ref_spread = np.asarray(got.rot_std) / np.asarray(want.rot_std)
        row.ref_speed = np.asarray(got.rot_speed) / np.asarray(want.rot_speed)
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
                 f"closures {row.closure:.0%}", fontsize=10)
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


def print_motion_table(rows: list[Row]) -> None:
    """Issue 13's table: head spread and speed ratios per axis, blinks, and the reference-video halves."""
    f3 = lambda a: "—" if np.isnan(a).all() else "/".join(f"{v:.2f}" for v in a)  # noqa: E731
    print(f"\n{'group':9} {'clip':24} {'spread x/y/z':>16} {'speed x/y/z':>16} {'blink/min':>9} {'truth':>6} "
          f"{'ref spread':>16} {'ref speed':>16}")
    for r in rows:
        print(f"{r.group:9} {r.clip[:24]:24} {f3(r.spread):>16} {f3(r.speed):>16} {r.blinks:9.1f} "
              f"{r.true_blinks:6.1f} {f3(r.ref_spread):>16} {f3(r.ref_speed):>16}")
    for g in dict.fromkeys(r.group for r in rows):
        rs = [r for r in rows if r.group == g]
        refs = [r for r in rs if not np.isnan(r.ref_spread).all()]
        print(f"{g:9} {'mean of ' + str(len(rs)):24} {f3(np.mean([r.spread for r in rs], 0)):>16} "
              f"{f3(np.mean([r.speed for r in rs], 0)):>16} {np.mean([r.blinks for r in rs]):9.1f} "
              f"{np.mean([r.true_blinks for r in rs]):6.1f} "
              f"{f3(np.mean([r.ref_spread for r in refs], 0)) if refs else '—':>16} "
              f"{f3(np.mean([r.ref_speed for r in refs], 0)) if refs else '—':>16}")
    print("targets (issue 13): spread and speed 0.5–1.5 per axis (default style), blinks 10–25/min, reference "
          "halves 0.7–1.3")


def print_table(rows: list[Row]) -> None:
    head = (f"{'group':9} {'clip':24} {'s':>5} {'r lag0':>6} {'lag':>4} {'r best':>6} {'amp':>5} {'range':>5} "
            f"{'close':>6} "
            f"{'speed x/y/z':>16} {'blink/min':>9} {'energy r':>8}")
    print(head)
    fmt = lambda v: "   —" if np.isnan(v) else f"{v:4.0%}"  # noqa: E731
    for r in rows:
        sp = "/".join(f"{v:.2f}" for v in r.speed)
        print(f"{r.group:9} {r.clip[:24]:24} {r.seconds:5.1f} {r.r0:6.3f} {r.lag:4d} {r.r_best:6.3f} {r.amp:5.2f} "
              f"{r.rng:5.2f} "
              f"{fmt(r.closure):>6} {sp:>16} {r.blinks:9.1f} {r.energy_r:8.3f}")
    print("\nPer group (mean over clips; closure recall over clips where the truth closes):")
    print(f"{'group':9} {'clips':>5} {'r lag0':>6} {'|lag|':>5} {'r best':>6} {'amp':>5} {'amp min–max':>11} "
          f"{'range':>5} "
          f"{'close':>6} {'speed x/y/z':>16} {'blink/min':>9}")
    for g in dict.fromkeys(r.group for r in rows):
        rs = [r for r in rows if r.group == g]
        amps = [r.amp for r in rs]
        cl = [r.closure for r in rs if not np.isnan(r.closure)]
        sp = "/".join(f"{v:.2f}" for v in np.mean([r.speed for r in rs], axis=0))
        print(f"{g:9} {len(rs):5d} {np.mean([r.r0 for r in rs]):6.3f} {np.mean([abs(r.lag) for r in rs]):5.1f} "
              f"{np.mean([r.r_best for r in rs]):6.3f} "
              f"{np.mean(amps):5.2f} {min(amps):5.2f}–{max(amps):4.2f} {np.mean([r.rng for r in rs]):5.2f} "
              f"{fmt(float(np.mean(cl)) if cl else float('nan')):>6} {sp:>16} "
              f"{np.mean([r.blinks for r in rs]):9.1f}")
    print("targets (issue 10): dev-av r ≥ 0.4 and amplitude 0.7–1.3 on every clip; GRID held-out r ≥ 0.6")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev-av", default=str(REPO.parent / "shared" / "data" / "dev-av"))
    ap.add_argument("--grid", default=str(REPO / "data" / "grid"), help="GRID prepared by `parley data prepare`")
    ap.add_argument("--models", help="checkpoint folder (default: the shipped ones)")
    ap.add_argument("--articulation", type=float, default=1.0)
    ap.add_argument("--out", default=str(REPO / "out" / "bench_real"))
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="one clip per group, no plots (CI)")
    ap.add_argument("--text", action="store_true",
                    help="GRID clips also with their sentence as --text (their names spell it); dev-av has no script")
    args = ap.parse_args()
    import torch

    from core.data.phone_corpus import grid_sentence
    from core.data.prepare import prepare
    from core.data.splits import REST_SPEAKERS
    from core.loading import default_models, load_models

    torch.set_num_threads(2)
    m = load_models(args.models) if args.models else default_models()
    out = Path(args.out)
    plots = None if args.no_plots or args.smoke else out / "plots"
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
    from core.models.spontaneous import HeadStyle

    rows = []
    if args.smoke:
        groups = [(g, sorted(clips, key=lambda c: c.frames)[:1]) for g, clips in groups]
    for g, clips in groups:
        styles = [HeadStyle.measure(c.pose, c.fps) for c in clips] if g == "dev-av" else []
        if styles:
            mean = np.mean([[s.rot_std, s.rot_speed, s.trans_std] for s in styles], axis=0)
            print("dev-av talkers' head style (the shipped default is this mean): rot std deg "
                  f"{np.round(mean[0], 2)}, speed deg/s {np.round(mean[1], 2)}, trans std mm {np.round(mean[2], 1)}")
        for i, c in enumerate(clips):
            loo = None
            if len(styles) > 1:  # judged with the mean of the other four: the clip never sets its own target
                others = np.mean([[s.rot_std, s.rot_speed, s.trans_std] for j, s in enumerate(styles) if j != i], 0)
                loo = tuple(tuple(float(v) for v in row) for row in others)
            rows.append(score_clip(g, c, m, args.articulation, plots, loo))
            sentence = grid_sentence(c.key) if args.text and g.startswith("grid") else None
            if sentence:
                rows.append(score_clip(g + "+text", c, m, args.articulation, None, loo, sentence))
    if not rows:
        print("nothing to measure")
        return 0
    print_table(rows)
    print_motion_table(rows)
    if plots is not None:
        print(f"\nplots → {plots}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
