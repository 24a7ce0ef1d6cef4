"""``animate`` speed: compute seconds per second of audio on 60 s of speech (medians), model loading apart.

    .venv/bin/python benchmarks/bench_animate.py [--runs 5] [--seconds 60] [--fps 30] [--threads N]

Stages timed separately: checkpoint loading (once per process), face reconstruction (once per face),
audio decode, and the animation proper (features, Ψ, smoothing, Φ, blinks, landmarks).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch


def main() -> None:
    from core.animate import animate, face_reference, load_models
    from core.audio.decode import load_audio
    from core.cli import DEMO_AUDIO, DEMO_FACE

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    models = load_models()
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = face_reference(DEMO_FACE)
    t_face = time.perf_counter() - t0
    voice = load_audio(DEMO_AUDIO).samples
    x = np.resize(voice, int(args.seconds * 16000))
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "speech.wav"
        sf.write(wav, x, 16000)
        animate(wav, ref, fps=args.fps, models=models)  # warm-up
        total, compute, decode = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = animate(wav, ref, fps=args.fps, models=models)
            total.append(time.perf_counter() - t0)
            compute.append(r.meta["compute_seconds"])
            t1 = time.perf_counter()
            load_audio(wav)
            decode.append(time.perf_counter() - t1)
    med = statistics.median
    c, t = med(compute), med(total)
    print(f"animate, {args.seconds:.0f} s of speech, {args.fps:g} fps, {args.threads} threads, medians of {args.runs}")
    print(f"  model loading (once per process)   {t_load:7.3f} s")
    print(f"  face reconstruction (once per face) {t_face:7.3f} s")
    print(f"  audio decode                        {med(decode):7.3f} s")
    print(f"  animation (features, Ψ, Φ, blinks)  {c:7.3f} s  → {c / args.seconds:.4f} s per s of audio")
    print(f"  animate() call incl. decode         {t:7.3f} s  → {t / args.seconds:.4f} s per s of audio (goal ≤ 0.005)")



if __name__ == "__main__":
    main()
