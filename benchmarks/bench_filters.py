"""Jitter removal on real GRID tracks: Kesim & Erzin's two filters vs Parley's pose/expression filter.

    .venv/bin/python benchmarks/bench_filters.py data/grid [--clips 200] [--plot out/filters.png]

Two checks, per filter, medians over clips:
1. Real tracks (no ground truth): MSI of the lips and of the stable (rigid) points in the canonical
   frame — higher is steadier — and how much of the raw lip-aperture motion survives
   (std ratio and r against the raw aperture; over-smoothing shows up as a low ratio).
2. Semi-synthetic (ground truth known): each real track is smoothed hard to make a "clean" motion,
   tracker-like white jitter of the size measured on the rigid points is added, and each filter's
   aperture error against the clean motion is reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

from core.data.filters import paper_filter, parley_filter
from core.face.canonical import canonical_face
from core.face.geometry import STABLE_POINTS, Disentangled, disentangle, mouth_aperture
from core.metrics.landmarks import msi, msi_lips
from core.metrics.sync import pearson

FILTERS: dict[str, Callable[[np.ndarray, np.ndarray], Disentangled]] = {
    "raw": disentangle,
    "paper (MA5 + G5)": paper_filter,
    "parley (pose G1.5 + SG7)": parley_filter,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--clips", type=int, default=200)
    ap.add_argument("--plot", type=Path, default=Path("out/filters.png"))
    args = ap.parse_args()
    manifest = json.loads((args.data / "manifest.json").read_text())["clips"]
    rng = np.random.default_rng(0)
    pick = [manifest[i] for i in sorted(rng.choice(len(manifest), min(args.clips, len(manifest)), replace=False))]
    can = canonical_face()
    real: dict[str, dict[str, list[float]]] = {
        k: {"msi_lips": [], "msi_rigid": [], "amp": [], "r": []} for k in FILTERS
    }
    synth: dict[str, list[float]] = {k: [] for k in FILTERS}
    for c in pick:
        raw = np.load(args.data / "tracks" / f"{c['key']}.npz")["landmarks"].astype(np.float64)
        base = disentangle(raw, can)
        ap_raw = mouth_aperture(base.expression_landmarks)
        for name, f in FILTERS.items():
            parts = f(raw, can)
            lm = parts.expression_landmarks
            a = mouth_aperture(lm)
            real[name]["msi_lips"].append(msi_lips(lm))
            real[name]["msi_rigid"].append(msi(lm, STABLE_POINTS))
            real[name]["amp"].append(float(np.std(a) / np.std(ap_raw)))
            real[name]["r"].append(pearson(a, ap_raw))
        # semi-synthetic: hard-smoothed real motion + white jitter measured on the rigid points
        clean = gaussian_filter1d(raw, 2.0, axis=0)
        jitter = float(np.std(raw[:, list(STABLE_POINTS), :2] - clean[:, list(STABLE_POINTS), :2]))
        noisy = clean + rng.normal(scale=jitter, size=raw.shape)
        truth = mouth_aperture(disentangle(clean, can).expression_landmarks)
        for name, f in FILTERS.items():
            est = mouth_aperture(f(noisy, can).expression_landmarks)
            synth[name].append(float(np.sqrt(np.mean((est - truth) ** 2)) / np.std(truth)))
    print(f"{len(pick)} GRID clips, medians")
    head = ("filter", "MSI lips", "MSI rigid", "aperture std kept", "r vs raw", "synthetic err")
    print(f"{head[0]:<26} {head[1]:>9} {head[2]:>10} {head[3]:>18} {head[4]:>9} {head[5]:>14}")
    for name in FILTERS:
        m = {k: statistics.median(v) for k, v in real[name].items()}
        print(
            f"{name:<26} {m['msi_lips']:9.3f} {m['msi_rigid']:10.3f} {m['amp']:18.3f} {m['r']:9.3f} "
            f"{statistics.median(synth[name]):14.3f}"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = pick[0]
    raw = np.load(args.data / "tracks" / f"{c['key']}.npz")["landmarks"].astype(np.float64)
    fig, ax = plt.subplots(figsize=(10, 3.2))
    t = np.arange(len(raw)) / 25.0
    for (name, f), col in zip(FILTERS.items(), ("lightgray", "tab:blue", "tab:orange"), strict=True):
        ax.plot(t, mouth_aperture(f(raw, can).expression_landmarks), label=name, color=col, lw=1.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mouth aperture")
    ax.set_title(f"{c['key']}: lip aperture after each jitter filter")
    ax.legend()
    fig.tight_layout()
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.plot, dpi=110)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
