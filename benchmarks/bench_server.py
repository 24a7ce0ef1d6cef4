"""``parley serve`` under a stopwatch: cold start, memory, one client alone, and 16 clients at once.

    .venv/bin/python benchmarks/bench_server.py [--clients 16] [--runs 7] [--seconds 10] [--workers 2]

Each figure comes from a real server process on 127.0.0.1 (started by this script):
- cold start: process launch → ``/v1/ready`` answers 200 (models loaded, portrait reconstructed, warm-up run);
  median of ``--starts`` launches;
- memory: the server's resident set (VmRSS) once ready, and its peak (VmHWM) after the load test;
- latency: POST ``/v1/animate?wait=true`` with a 10 s WAV (the demo voice repeated; default face, 30 fps)
  → GET the NPZ result; the time a client waits end to end. Alone: median of ``--runs`` sequential requests.
  Under load: ``--clients`` threads send at the same moment (queue large enough that none is refused),
  ``--bursts`` times; p50 and p95 of all their latencies, and p95 / alone.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(results: Path, workers: int, queue: int) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--results-dir",
                             str(results), "--workers", str(workers), "--max-queue", str(queue)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(url + "/v1/ready").status_code == 200:
                return proc, url, time.perf_counter() - t0
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        time.sleep(0.02)


def clip(seconds: float) -> bytes:
    """The demo voice repeated to ``seconds``, as a 16-bit WAV."""
    from core.audio.decode import load_audio
    from core.cli import DEMO_AUDIO

    voice = load_audio(DEMO_AUDIO).samples
    buf = io.BytesIO()
    sf.write(buf, np.resize(voice, int(seconds * 16000)), 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def one_request(c: httpx.Client, audio: bytes) -> float:
    t0 = time.perf_counter()
    r = c.post("/v1/animate", params={"wait": "true"}, files={"audio": ("clip.wav", audio)}, data={"fps": "30"})
    job = r.json()
    assert job.get("state") == "done", job
    res = c.get(f"/v1/jobs/{job['id']}/result", params={"format": "npz"})
    assert res.status_code == 200
    with np.load(io.BytesIO(res.content)) as z:
        assert z["expression"].shape[1] == 20
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--bursts", type=int, default=5, help="load-test bursts, latencies pooled")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = ap.parse_args()
    audio = clip(args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        starts = []
        for i in range(args.starts):
            proc, url, secs = start(Path(tmp) / f"cold{i}", args.workers, args.clients)
            starts.append(secs)
            if i < args.starts - 1:
                proc.terminate()
                proc.wait(60)
        ready_rss = rss_mb(proc.pid)
        with httpx.Client(base_url=url, timeout=300) as c:
            one_request(c, audio)  # first request after start (not counted)
            alone = [one_request(c, audio) for _ in range(args.runs)]
        lat: list[float] = []
        walls = []
        for _ in range(args.bursts):
            burst = [0.0] * args.clients
            gate = threading.Barrier(args.clients)

            def client(i: int, burst: list[float] = burst, gate: threading.Barrier = gate) -> None:
                with httpx.Client(base_url=url, timeout=300) as c:
                    gate.wait()
                    burst[i] = one_request(c, audio)

            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            walls.append(time.perf_counter() - t0)
            lat += burst
        wall = statistics.median(walls)
        peak = rss_mb(proc.pid, "VmHWM")
        proc.terminate()
        proc.wait(60)
    a = statistics.median(alone)
    p50, p95 = np.percentile(lat, 50), np.percentile(lat, 95)
    print(f"parley serve on {os.cpu_count()} CPU cores, --workers {args.workers}, {args.seconds:g} s clip at 30 fps, "
          "default face")
    print(f"cold start → ready (median of {args.starts}): {statistics.median(starts):.2f} s  "
          f"(runs: {', '.join(f'{s:.2f}' for s in starts)})")
    print(f"resident memory once ready: {ready_rss:.0f} MB; peak after the load test: {peak:.0f} MB (goal ≤ 1536)")
    print(f"latency alone (median of {args.runs}): {a * 1000:.0f} ms")
    print(f"{args.clients} concurrent clients ({args.bursts} bursts pooled): p50 {p50 * 1000:.0f} ms, p95 "
          f"{p95 * 1000:.0f} ms, a burst done in {wall:.2f} s (median); p95 / alone = {p95 / a:.2f} (goal ≤ 3)")
    print("  the clients run on the same cores as the server; on 2 cores 16 jobs cannot all finish within 3x one job")


if __name__ == "__main__":
    main()
