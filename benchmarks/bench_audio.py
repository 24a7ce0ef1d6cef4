"""Audio decoding + per-frame features: seconds of compute per second of audio (medians).

    .venv/bin/python benchmarks/bench_audio.py [--runs 5] [--seconds 60]

Uses the demo voice repeated to the requested length, written as WAV, FLAC, MP3 and M4A.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def main() -> None:
    import imageio_ffmpeg

    from core.audio.decode import load_audio
    from core.audio.features import audio_windows
    from core.cli import DEMO_AUDIO

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    voice, rate = sf.read(DEMO_AUDIO, dtype="float32")
    reps = int(np.ceil(args.seconds * rate / len(voice)))
    x = np.tile(voice, reps)[: int(args.seconds * rate)]
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        sf.write(wav, x, rate)
        files = {"wav": wav}
        flac = Path(tmp) / "speech.flac"
        sf.write(flac, x, rate)
        files["flac"] = flac
        for ext in ("mp3", "m4a"):
            out = Path(tmp) / f"speech.{ext}"
            subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(wav), str(out)], check=True)
            files[ext] = out
        print(f"{args.seconds:.0f} s of speech, {args.runs} runs, medians (s of compute per s of audio):")
        for name, path in files.items():
            dec, feat = [], []
            for _ in range(args.runs):
                a = time.perf_counter()
                audio = load_audio(path)
                b = time.perf_counter()
                audio_windows(audio.samples, 30.0)
                c = time.perf_counter()
                dec.append((b - a) / audio.duration)
                feat.append((c - b) / audio.duration)
            print(
                f"  {name:<5} decode {statistics.median(dec):.5f}  features@30fps {statistics.median(feat):.5f}  "
                f"total {statistics.median(dec) + statistics.median(feat):.5f}"
            )


if __name__ == "__main__":
    main()
