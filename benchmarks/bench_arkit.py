"""How well ARKit weights reproduce Parley's landmarks, and the head fit's error, on held-out GRID and dev-av.

    .venv/bin/python benchmarks/bench_arkit.py [--data data/grid] [--dev-av out/bench_real/dev-av] [--clips 12]

ARKit (issue target: ≤ 1 mm mean over the lip points): for held-out GRID clips (s4 and the small speakers, those
the rest estimator never saw) Ψ animates the clip's own audio on the clip's rest, exactly as ``animate`` does; the
predicted landmark motion is turned into ARKit weights three ways and the weights' landmarks are compared with the
prediction, in mm, on the 40 lip points and on all 468:

- **solve** (shipped): bounded least squares with temporal regularisation over the clip (``core.face.retarget``);
- **per-frame bvls**: the exact bounded solve of each frame alone (slow; the best a 0–1 weight set can do);
- **direct linear**: a fixed linear map from Ψ's 20 coefficients to the weights (the unconstrained least-squares
  solution of each PCA component, precomputed), clipped to [0, 1] — the cheapest "predict them directly".

Head fit (target: ≤ 2 % of the eye-corner distance): the ICT head fitted (identity + expression, as ``reconstruct``
does for a photo) to GRID held-out frames and to dev-av frames (a clip's first frame and its widest-open frame).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np


def main() -> int:
    from core.data.splits import REST_SPEAKERS
    from core.face.geometry import mouth_aperture
    from core.face.ict import fit_head, load_head
    from core.face.retarget import SOLVED, arkit_basis, reproduce, solve_arkit, solve_per_frame
    from core.loading import load_models
    from core.metrics.regions import LIPS
    from core.models.expression import identity_feature, predict_with_visemes
    from core.shaping import apply_smoothing, shape_lips
    from core.train.data import load_clips

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="data/grid")
    ap.add_argument("--dev-av", default="out/bench_real/dev-av")
    ap.add_argument("--clips", type=int, default=12, help="held-out GRID clips (s4 first, then the small speakers)")
    args = ap.parse_args()
    m = load_models()
    comps = m.pca.components
    head = load_head()
    val = [c for c in load_clips(Path(args.data), m.pca, m.canonical, ("val_unseen",))["val_unseen"]
           if c.speaker not in REST_SPEAKERS]
    chosen = [c for c in val if c.speaker == "s4"][: args.clips // 2]
    chosen += [c for c in val if c.speaker != "s4"][: args.clips - len(chosen)]
    rows: dict[str, dict[str, list[float]]] = {"solve": {}, "per-frame bvls": {}, "direct linear": {}}
    times: dict[str, list[float]] = {k: [] for k in rows}
    from core.audio.features import model_features
    from core.speech.script import hear

    for c in chosen:
        mel = model_features(c.audio)
        ev = hear(m.phonetic, mel).evidence if m.phonetic is not None else None
        q, vis = predict_with_visemes(m.expression, mel, c.frames, c.fps, identity_feature(c.rest, m.canonical, comps),
                                      ev)
        q = shape_lips(m, apply_smoothing(m, q, c.fps), c.rest, c.audio, c.fps, 1.0, vis)
        offsets = (q @ comps[: q.shape[1]]).reshape(len(q), 468, 3)
        basis = arkit_basis(c.rest, head)
        blink = np.zeros((len(q), 2), np.float32)
        group = "s4" if c.speaker == "s4" else "small"
        t0 = time.perf_counter()
        w_solve = solve_arkit(offsets, blink, basis)
        times["solve"].append((time.perf_counter() - t0) / (len(q) / c.fps))
        t0 = time.perf_counter()
        w_exact = solve_per_frame(offsets, basis)
        times["per-frame bvls"].append((time.perf_counter() - t0) / (len(q) / c.fps))
        t0 = time.perf_counter()
        b = basis.deltas[list(SOLVED)].reshape(len(SOLVED), -1).astype(np.float64)
        lin = np.linalg.lstsq(b.T, comps[: q.shape[1]].T.astype(np.float64), rcond=None)[0].T  # (20, S)
        w_direct = np.zeros_like(w_solve)
        w_direct[:, list(SOLVED)] = np.clip(q @ lin, 0.0, 1.0)
        times["direct linear"].append((time.perf_counter() - t0) / (len(q) / c.fps))
        for name, w in (("solve", w_solve), ("per-frame bvls", w_exact), ("direct linear", w_direct)):
            err = np.linalg.norm(reproduce(w, basis) - offsets, axis=2) * 1000  # mm
            rows[name].setdefault(f"{group} lips", []).append(float(err[:, list(LIPS)].mean()))
            rows[name].setdefault(f"{group} all", []).append(float(err.mean()))
    print(f"ARKit weights → landmarks, held-out GRID ({len(chosen)} clips; mean error in mm, median over clips)")
    cols = sorted(next(iter(rows.values())))
    print(f"{'method':16} " + " ".join(f"{k:>10}" for k in cols) + f" {'s per s':>9}")
    for name, r in rows.items():
        print(f"{name:16} " + " ".join(f"{statistics.median(r[k]):10.3f}" for k in cols)
              + f" {statistics.median(times[name]):9.5f}")

    print("\nHead fit (identity + expression) vs tracked landmarks: mean error / eye-corner distance")
    for label, folder, keep in (("GRID held-out", Path(args.data), lambda c: c["speaker"] not in REST_SPEAKERS
                                 and c["speaker"] != "s1"), ("dev-av", Path(args.dev_av), lambda c: True)):
        if not (folder / "manifest.json").is_file():
            print(f"{label}: skipped ({folder} not prepared)")
            continue
        errs, secs = [], []
        for c in [c for c in json.loads((folder / "manifest.json").read_text())["clips"] if keep(c)][:20]:
            with np.load(folder / c["file"]) as z:
                lm = z["landmarks"]
            for f in (lm[0], lm[int(np.argmax(mouth_aperture(lm)))]):
                t0 = time.perf_counter()
                fit = fit_head(f, head)
                secs.append(time.perf_counter() - t0)
                errs.append(float(fit.error.mean() / np.linalg.norm(f[33] - f[263])))
        print(f"{label:14} {np.mean(errs):6.2%} mean, {np.max(errs):6.2%} worst over {len(errs)} frames; "
              f"fit {statistics.median(secs) * 1000:.0f} ms median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
