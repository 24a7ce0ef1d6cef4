"""``animate`` speed on the path users run (torch and BLAS on one thread, as the CLI, batch and server do): compute
seconds per second of audio on about 60 s of speech, without a script and with one (medians).

    .venv/bin/python benchmarks/bench_animate.py [--runs 5] [--seconds 60] [--fps 30] [--threads 1]

The speech is flite's kal voice saying Parley's own sentences (its script is known; the demo voice looped when
flite is absent, its script then recognised by PocketSphinx). Stages timed apart: model loading, face
reconstruction (once per face), audio decode, the animation proper (features, phonetic encoder, Ψ, smoothing, Φ,
blinks, landmarks, ARKit solve), and within it the phonetic encoder and the script's alignment.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def speech(seconds: float) -> tuple[np.ndarray, str]:
    """About ``seconds`` of speech and its script."""
    from core.audio.decode import load_audio
    from core.cli import DEMO_AUDIO
    from core.data.sentences import make_sentences
    from core.data.tts import available, synthesize

    if available("flite:kal"):
        parts, words = [], []
        for s in make_sentences(200, seed=7):
            u = synthesize(s, "flite:kal")
            parts.append(u.samples)
            words.append(s)
            if sum(len(p) for p in parts) >= seconds * 16000:
                break
        return np.concatenate(parts), " ".join(words)
    from core.speech.sphinx import recognise

    voice = load_audio(DEMO_AUDIO).samples
    reps = int(np.ceil(seconds * 16000 / len(voice)))
    return np.resize(voice, reps * len(voice)), " ".join(recognise(voice) * reps)


def main() -> None:
    import torch

    from core.animate import animate
    from core.audio.decode import load_audio
    from core.audio.features import model_features
    from core.cli import DEMO_FACE
    from core.loading import load_models
    from core.reference import face_reference
    from core.threads import one_thread

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=1, help="1: the shipped paths' setting (default)")
    args = ap.parse_args()
    if args.threads == 1:
        one_thread()
    else:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    models = load_models()
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = face_reference(DEMO_FACE)
    t_face = time.perf_counter() - t0
    x, script = speech(args.seconds)
    seconds = len(x) / 16000
    med = statistics.median
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "speech.wav"
        sf.write(wav, x, 16000)
        rows: dict[str, list[float]] = {"audio": [], "script": [], "decode": []}
        for text in (None, script):
            animate(wav, ref, fps=args.fps, models=models, text=text)  # warm-up
            for _ in range(args.runs):
                r = animate(wav, ref, fps=args.fps, models=models, text=text)
                rows["script" if text else "audio"].append(float(r.meta["compute_seconds"]))
        for _ in range(args.runs):
            t1 = time.perf_counter()
            load_audio(wav)
            rows["decode"].append(time.perf_counter() - t1)
        matched = r.meta.get("script", {}).get("matched_share", float("nan"))
    stages = {}
    if models.phonetic is not None:
        from core.models.phonetic import phone_posteriors
        from core.speech.align import align_words
        from core.speech.lexicon import pronounce

        mel = model_features(x)
        enc, al = [], []
        for _ in range(args.runs):
            t1 = time.perf_counter()
            post = phone_posteriors(models.phonetic, mel)
            enc.append(time.perf_counter() - t1)
            t1 = time.perf_counter()
            align_words(np.log(post + 1e-8), pronounce(script))
            al.append(time.perf_counter() - t1)
        stages = {"phonetic encoder": med(enc), "script: lexicon + alignment": med(al)}
    print(f"animate, {seconds:.1f} s of speech, {args.fps:g} fps, {args.threads} thread(s), medians of {args.runs}")
    print(f"  model loading (once per process)     {t_load:7.3f} s")
    print(f"  face reconstruction (once per face)  {t_face:7.3f} s")
    print(f"  audio decode                         {med(rows['decode']):7.3f} s")
    for name, v in stages.items():
        print(f"    of which {name:27} {v:7.3f} s  → {v / seconds:.4f} s per s of audio")
    a, s = med(rows["audio"]), med(rows["script"])
    print(f"  animation, audio only                {a:7.3f} s  → {a / seconds:.4f} s per s of audio")
    print(f"  animation with the script            {s:7.3f} s  → {s / seconds:.4f} s per s of audio "
          f"({matched:.0%} of its words found)")
    print("goal (issue 20): ≤ 0.005 s per s of audio of marginal cost, with a script and without")


if __name__ == "__main__":
    main()
