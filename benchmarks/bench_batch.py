"""Many lines, fast: ``parley batch`` throughput, the CLI's cold start, and memory.

    .venv/bin/python benchmarks/bench_batch.py [--clips 40] [--seconds 10] [--repeats 3] [--no-ray]

1. **Throughput**: ``--clips`` lines of ``--seconds`` each (the demo voice, each line rolled to start elsewhere, so no
   two are the same) through ``parley batch`` as a fresh command each time — start-up included — on local
   processes (one per core), on one process, and on an in-process Ray cluster; audio seconds per wall second, the
   median of ``--repeats``; peak memory of the largest process (``ru_maxrss`` of the command and its workers; a
   worker forked from the parent shares the models' pages with it).
2. **Cold start**: ``parley animate`` on 5 s of audio against ``python -c "import torch"`` on the same machine,
   interleaved, median of ``--repeats`` + 2 each; the target is ≤ 2×.

Both twice: with the built-in portrait (its rest ships precomputed: no MediaPipe, no reconstruction) and with a real
photo as ``--face`` (the portrait's JPEG given as a file: tracked and reconstructed, as users run it).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def make_lines(folder: Path, n: int, seconds: float) -> None:
    import soundfile as sf

    from core.audio.decode import load_audio
    from core.cli import DEMO_AUDIO

    voice = load_audio(DEMO_AUDIO).samples
    length = int(seconds * 16000)
    voice = np.tile(voice, int(np.ceil(length / len(voice))) + 1)
    for i in range(n):
        sf.write(folder / f"line_{i:03d}.wav", np.roll(voice, -i * 4000)[:length], 16000)


#: Runs a command and prints its wall time and the peak RSS of its largest process (its own and its workers').
_PROBE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
          "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
          "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode); "
          "sys.stderr.write(r.stdout[-2000:] + r.stderr[-2000:] if r.returncode else '')")


def timed(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB of the command's largest process)."""
    proc = subprocess.run([sys.executable, "-c", _PROBE, *cmd], cwd=REPO, capture_output=True, text=True)
    took, peak, rc = proc.stdout.split()[-3:]
    if int(rc) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return float(took), int(peak) // 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="parley_bench_batch_"))
    try:
        lines = tmp / "lines"
        lines.mkdir()
        make_lines(lines, args.clips, args.seconds)
        audio = args.clips * args.seconds
        photo = ["--face", str(REPO / "core" / "assets" / "demo_face.jpg")]
        runs = {"local processes (2), portrait": ["--workers", "2"], "local processes (2), photo": ["--workers", "2",
                *photo], "one process, photo": ["--workers", "1", *photo]}
        try:
            import ray  # noqa: F401

            if not args.no_ray:
                runs["Ray, local cluster (2 CPUs), photo*"] = ["--workers", "2", "--ray", "local", *photo]
        except ImportError:
            print("Ray is not installed: its row is skipped")
        print(f"parley batch: {args.clips} lines × {args.seconds:g} s = {audio:g} s of audio, start-up included "
              f"(median of {args.repeats})")
        print(f"{'run':36} {'wall s':>7} {'audio s / wall s':>17} {'peak MB':>8}")
        for name, extra in runs.items():
            walls, peaks = [], []
            for _ in range(args.repeats):
                out = tmp / "out"
                shutil.rmtree(out, ignore_errors=True)
                w, p = timed([py, "-m", "core.cli", "batch", str(lines), "--out", str(out), *extra])
                assert len(list(out.glob("*.npz"))) == args.clips
                walls.append(w)
                peaks.append(p)
            w = statistics.median(walls)
            print(f"{name:36} {w:7.2f} {audio / w:17.0f} {max(peaks):8d}")
        print("* Ray's workers run under its raylet, not as children of the command: its peak is the driver's alone")
        print("targets: 40 lines of 10 s in ≤ 6 s of wall time (issue 15); ≥ 100 audio s per wall s with a photo "
              "(issue 21)")

        five = tmp / "five.wav"
        make_lines(tmp, 1, 5.0)
        (tmp / "line_000.wav").rename(five)
        torch_s, anim_s, photo_s = [], [], []
        animate = [py, "-m", "core.cli", "animate", str(five), "--out", str(tmp / "five.npz")]
        for _ in range(args.repeats + 2):
            torch_s.append(timed([py, "-c", "import torch"])[0])
            anim_s.append(timed(animate)[0])
            photo_s.append(timed([*animate, *photo])[0])
        t, a, f = statistics.median(torch_s), statistics.median(anim_s), statistics.median(photo_s)
        print(f"\ncold start (median of {len(anim_s)}): import torch {t:.2f} s; parley animate on 5 s with the "
              f"portrait {a:.2f} s ({a / t:.2f}×), with a photo {f:.2f} s ({f / t:.2f}×); target ≤ 2×")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
