"""Run the benchmarks: ``python -m benchmarks --smoke`` runs every one on tiny inputs (CI: it proves each still
runs, in a few minutes); without ``--smoke``, on the inputs each is documented with (tens of minutes).

    .venv/bin/python -m benchmarks [--smoke] [NAME ...] [--timeout 600]

Each runs as its own process, as a person would start it; one that needs a prepared dataset (``data/grid``) that is
absent is skipped with a line saying so. Exit 1 if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GRID = REPO / "data" / "grid"

#: name → (smoke arguments, needs data/grid)
SMOKE: dict[str, tuple[list[str], bool]] = {
    "bench_audio": (["--runs", "1", "--seconds", "5"], False),
    "bench_animate": (["--runs", "1", "--seconds", "5"], False),
    "bench_reconstruct": (["--runs", "1"], False),
    "bench_apply": (["--seconds", "5", "--runs", "1"], False),
    "bench_batch": (["--clips", "4", "--seconds", "2", "--repeats", "1", "--no-ray"], False),
    "bench_server": (["--clients", "2", "--runs", "1", "--starts", "1", "--bursts", "1", "--seconds", "1"], False),
    "bench_closures": (["--smoke", "--out", "out/smoke/bench_closures"], False),
    "bench_render": (["--clips", "1", "--dev-seconds", "1", "--speed-frames", "2", "--out", "out/smoke/render"],
                     False),
    "bench_real_footage": (["--smoke", "--out", "out/smoke/bench_real"], False),
    "bench_live": (["--minutes", "0.2", "--skip", "offline", "footage", "apply", "--out", "out/smoke/live"], False),
    "bench_arkit": (["--clips", "2"], True),
    "bench_motion_quality": ([str(GRID), "--clips", "4", "--plot", "out/smoke/bench"], True),
    "bench_filters": ([str(GRID), "--clips", "3", "--plot", "out/smoke/filters.png"], True),
    "bench_stable_points": ([str(GRID), "--clips", "3"], True),
}
FULL: dict[str, list[str]] = {"bench_motion_quality": [str(GRID)], "bench_filters": [str(GRID)],
                              "bench_stable_points": [str(GRID)]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help=f"some of: {', '.join(SMOKE)} (default: all)")
    ap.add_argument("--smoke", action="store_true", help="tiny inputs: proves every benchmark still runs")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per benchmark")
    args = ap.parse_args()
    unknown = [n for n in args.names if n not in SMOKE]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)}; one of {', '.join(SMOKE)}")
    rows = []
    for name in args.names or list(SMOKE):
        extra, needs_grid = SMOKE[name]
        if needs_grid and not (GRID / "manifest.json").is_file():
            rows.append((name, "skipped", 0.0, f"{GRID} is not prepared (parley data prepare ../shared/data/grid)"))
            continue
        cmd = [sys.executable, str(REPO / "benchmarks" / f"{name}.py"), *(extra if args.smoke else FULL.get(name, []))]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        try:
            r = subprocess.run(cmd, cwd=REPO, timeout=args.timeout)
            status = "ok" if r.returncode == 0 else f"failed (exit {r.returncode})"
        except subprocess.TimeoutExpired:
            status = f"failed (over {args.timeout:g} s)"
        rows.append((name, status, time.perf_counter() - t0, ""))
    print(f"\n{'benchmark':22} {'result':24} {'seconds':>7}")
    for name, status, secs, why in rows:
        print(f"{name:22} {status:24} {secs:7.1f}" + (f"  {why}" if why else ""))
    return 1 if any(s.startswith("failed") for _, s, _, _ in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
