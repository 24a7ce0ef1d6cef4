"""Where Ψ's ``range_level`` comes from: how wide a conversational talker opens relative to GRID's readers.

    .venv/bin/python scripts/range_level.py [--models DIR] [--dev-av out/bench_real/dev-av] [--write FILE]

Each tuning clip's audio is animated on its first frame (as ``benchmarks/bench_real_footage.py`` does) at several
levels; the level whose mean amplitude ratio (prediction std / the talker's) is nearest 1 is chosen. The tuning
clips are three of the five dev-av interviews (d01, d03, d04); d02 (the only woman) and d05 (the moustache) are held
out of the choice and printed apart, as the figures that count. ``--write`` stores the level in a Ψ checkpoint's
config (its weights and provenance untouched, the choice recorded in its metadata).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TUNE = ("d01", "d03", "d04")
LEVELS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.25)


def amplitudes(m, clips, level: float) -> list[tuple[str, float, float]]:  # type: ignore[no-untyped-def]
    """(clip, amplitude ratio, r at lag 0) of each clip at ``level``."""
    from dataclasses import replace

    from core.animate import animate
    from core.audio.decode import Audio
    from core.face.geometry import mouth_aperture
    from core.metrics.sync import sync_scores
    from core.reference import Reference

    old = m.expression.cfg
    m.expression.cfg = replace(old, range_level=level)
    try:
        out = []
        for c in clips:
            res = animate(Audio(c.audio, 16000, 16000, 1, c.key), Reference.from_frames(c.landmarks[0], c.key),
                          fps=c.fps, models=m)
            n = min(res.frames, c.frames)
            s = sync_scores(mouth_aperture(res.landmarks[:n]), c.aperture[:n], max_lag=5)
            out.append((c.key, s.amplitude_ratio, s.r_lag0))
        return out
    finally:
        m.expression.cfg = old


def write_level(path: Path, level: float, note: str, key: str = "range_level") -> None:
    """Re-save a Ψ checkpoint with ``key`` (``range_level``) = ``level``; weights and every other metadata entry
    kept, the choice recorded as metadata ``<key>_choice``."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata() or {})
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    cfg = json.loads(meta["config"])
    cfg[key] = level
    meta["config"] = json.dumps(cfg)
    meta[f"{key}_choice"] = note
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", help="checkpoint folder (default: the shipped ones)")
    ap.add_argument("--dev-av", default=str(REPO / "out" / "bench_real" / "dev-av"),
                    help="dev-av prepared by bench_real_footage.py (or parley data prepare)")
    ap.add_argument("--write", help="a Ψ checkpoint to store the chosen level in")
    args = ap.parse_args()
    import torch

    from core.face.canonical import canonical_face
    from core.loading import load_models
    from core.models.pca import LandmarkPCA
    from core.threads import one_thread
    from core.train.data import load_clips

    one_thread()
    torch.set_num_threads(2)
    m = load_models(args.models) if args.models else load_models()
    pca = LandmarkPCA.load(REPO / "core" / "assets" / "landmark_pca.safetensors")
    clips = load_clips(Path(args.dev_av), pca, canonical_face(), ("val_unseen",))["val_unseen"]
    tune = [c for c in clips if any(t in c.key for t in TUNE)]
    held = [c for c in clips if c not in tune]
    print(f"tuning clips: {', '.join(c.key for c in tune)}; held out: {', '.join(c.key for c in held)}")
    print(f"{'level':>5} {'tuning amp (mean, min–max)':>28} {'tuning r':>8} {'held-out amp':>16} {'held-out r':>10}")
    best, gap = LEVELS[0], np.inf
    for level in LEVELS:
        t, h = amplitudes(m, tune, level), amplitudes(m, held, level)
        amp = float(np.mean([a for _, a, _ in t]))
        print(f"{level:5.2f} {amp:12.2f} ({min(a for _, a, _ in t):.2f}–{max(a for _, a, _ in t):.2f})"
              f"{np.mean([r for *_, r in t]):17.3f} {'/'.join(f'{a:.2f}' for _, a, _ in h):>16} "
              f"{np.mean([r for *_, r in h]):10.3f}")
        if abs(amp - 1.0) < gap:
            best, gap = level, abs(amp - 1.0)
    print(f"chosen range_level = {best:g} (tuning clips' mean amplitude nearest 1)")
    if args.write:
        write_level(Path(args.write), best, f"scripts/range_level.py on dev-av {', '.join(TUNE)}; held out d02, d05")
        print(f"→ {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
