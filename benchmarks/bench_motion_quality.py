"""Lip sync and motion quality on the GRID validation speakers, next to a baseline and the paper's variants.

    .venv/bin/python benchmarks/bench_motion_quality.py data/grid \\
        [--paper-expression ck/psi_paper.safetensors] [--paper-motion ck/phi_paper.safetensors] [--plot out/bench]

Held-out speakers only (s4, and the small speakers together). Expression: aperture r at lag 0, best
lag, amplitude ratio (std predicted / std real) and lip MSI ratio (predicted / real footage), medians
over clips, for the shipped Ψ (with the shipped smoothing), the paper-faithful Ψ and the log-energy
baseline. Head motion: rotation std ratio, angular speed ratio and rotation error (next to a head that
does not move), for the shipped Φ and the paper-faithful Φ, with a reference video (another clip of the
same speaker) and with the default style.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    from core.loading import load_models
    from core.models.expression import ExpressionNet
    from core.models.motion import HeadMotionNet
    from core.shaping import apply_smoothing
    from core.train.data import load_clips
    from core.train.expression import energy_baseline, groups, psi_predictions, score_clips
    from core.train.motion import validate_motion

    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--paper-expression")
    ap.add_argument("--paper-motion")
    ap.add_argument("--plot", default="out/bench")
    ap.add_argument("--models", help="checkpoint folder (default: the shipped ones)")
    ap.add_argument("--clips", type=int, default=0, help="at most this many held-out clips (0: all)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    m = load_models(args.models) if args.models else load_models()
    comps = m.pca.components
    val = load_clips(Path(args.data), m.pca, m.canonical, ("val_unseen",))["val_unseen"]
    if args.clips:
        val = val[: args.clips // 2] + val[-(args.clips - args.clips // 2) :]  # s4 and the small speakers

    def shipped(clips):  # type: ignore[no-untyped-def]
        preds = psi_predictions(m.expression, clips, m.phonetic)
        return [apply_smoothing(m, p, c.fps) for p, c in zip(preds, clips, strict=True)]

    rows: list[tuple[str, str, dict[str, float]]] = []
    paper = ExpressionNet.load(args.paper_expression) if args.paper_expression else None
    for g, clips in groups(val).items():
        rows.append((g, f"Ψ shipped ({m.expression.cfg.inputs}, smoothing {m.smoothing})",
                     score_clips(shipped(clips), clips, comps, m.expression.cfg.target)))
        if m.phonetic is not None:
            texted = psi_predictions(m.expression, clips, m.phonetic, text=True)
            rows.append((g, "Ψ shipped with the sentence as --text",
                         score_clips([apply_smoothing(m, p, c.fps) for p, c in zip(texted, clips, strict=True)],
                                     clips, comps, m.expression.cfg.target)))
        if paper is not None:
            rows.append(
                (g, "Ψ paper-faithful (per-window CNN)",
                 score_clips(psi_predictions(paper, clips), clips, comps, paper.cfg.target))
            )
        rows.append((g, "log-energy baseline", energy_baseline(clips)))
    print(f"Expression on held-out speakers ({len(val)} clips; medians over clips)")
    print(f"{'group':6} {'model':48} {'r lag0':>7} {'lag':>4} {'amp':>6} {'MSI ratio':>9} {'clips':>5}")
    for g, name, s in rows:
        amp = f"{s['amplitude_ratio']:.3f}" if "amplitude_ratio" in s else "—"
        msi = f"{s['lip_msi_ratio']:.3f}" if "lip_msi_ratio" in s else "—"
        print(f"{g:6} {name:48} {s['aperture_r_lag0']:7.3f} {s['best_lag']:4.0f} {amp:>6} {msi:>9} {s['clips']:5.0f}")
    print("targets: r ≥ 0.6 at lag 0, best lag within ±1, amplitude 0.7–1.3, MSI ratio ≥ 1 (at least the footage's)")

    print("\nHead motion on held-out speakers (medians over clips)")
    print(f"{'model':40} {'style':10} {'rot std ratio':>13} {'speed ratio':>11} {'rot err °':>9} {'static err °':>12}")
    nets = [("Φ shipped", m.motion)] + ([("Φ paper-faithful", HeadMotionNet.load(args.paper_motion))]
                                        if args.paper_motion else [])
    for name, net in nets:
        for style in ("reference", "default"):
            s = validate_motion(net, val, use_reference=style == "reference")
            print(f"{name:40} {style:10} {s['rot_std_ratio']:13.3f} {s['speed_ratio']:11.3f} {s['rot_err_deg']:9.3f} "
                  f"{s['static_err_deg']:12.3f}")

    # one picture: aperture of an s4 clip, predicted vs real vs energy
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from core.audio.features import frame_energy
    from core.face.geometry import mouth_aperture
    from core.train.expression import predicted_landmarks

    c = next(c for c in val if c.speaker == "s4")
    q = shipped([c])[0]
    ap_pred = mouth_aperture(predicted_landmarks(c, q, comps, m.expression.cfg.target))
    e = frame_energy(c.audio, c.fps)[: c.frames]
    t = np.arange(c.frames) / c.fps
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.plot(t, c.aperture, label="tracked footage", color="k")
    ax.plot(t, ap_pred, label="Parley (shipped Ψ)", color="tab:red")
    ax.plot(t, (e - e.mean()) / e.std() * c.aperture.std() + c.aperture.mean(), label="log energy (scaled)",
            color="tab:gray", alpha=0.6)
    ax.set_xlabel("s")
    ax.set_ylabel("mouth aperture")
    ax.set_title(f"{c.key} (held-out speaker): mouth aperture")
    ax.legend(loc="upper right", fontsize=8)
    out = Path(args.plot)
    out.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out / "aperture_s4.png", dpi=110)
    print(f"\nplot → {out / 'aperture_s4.png'}")


if __name__ == "__main__":
    main()
