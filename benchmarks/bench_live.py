"""Live: latency, dropped frames and memory over a long stream, and how closely the live mouth follows the offline.

    .venv/bin/python benchmarks/bench_live.py [--minutes 10] [--models live.safetensors ...] [--table-seconds 60]
        [--dev-av ../shared/data/dev-av] [--grid ../shared/data/grid] [--out out/bench_live]

1. **Stream.** ``parley live --input FILE --realtime --jsonl -`` runs as its own process, fed a file of read speech
   (LibriSpeech test-other readers, looped to ``--minutes``; the demo voice when ``../shared`` is absent) at its
   real pace in 20 ms blocks, as a microphone delivers them. Each frame's latency is the time from the block holding
   the frame's last sample being handed over to its line being read here (the pipe included). Reported: median,
   p95 and max; frames expected, written and missing; the process's resident memory sampled each second, and its
   slope over the stream after the first 30 s (MB per minute).
2. **Live vs offline.** jawOpen of ``parley live`` against ``parley animate`` on the same file and face: Pearson r per
   clip, mean per group (the demo voice; LibriSpeech test-other utterances the trainer never validated on; GRID's
   held-out speakers).
3. **Against real talkers.** Mouth aperture r at lag 0 against the tracked footage (dev-av interviews, GRID held-out
   speakers; ``parley data prepare``, cached under ``--out``), offline and live side by side.
With several ``--models`` (one per look-ahead), parts 2 and 3 run for each, and part 1 for each on
``--table-seconds`` of the stream: the latency/quality table of the model card.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def stream_file(minutes: float, out: Path) -> Path:
    """A WAV of read speech ``minutes`` long: LibriSpeech test-other utterances with 0.6 s pauses, looped."""
    import soundfile as sf

    from core.audio.decode import load_audio

    files = sorted((SHARED / "librispeech" / "test-other").rglob("*.flac"))
    if not files:
        files = [REPO / "core" / "assets" / "demo_voice.flac"]
    pause = np.zeros(int(0.6 * 16000), np.float32)
    parts, total, i = [], 0, 0
    while total < minutes * 60 * 16000:
        x = load_audio(files[i % len(files)]).samples
        parts += [x, pause]
        total += len(x) + len(pause)
        i += 1
    path = out / f"stream_{minutes:g}min.wav"
    out.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.concatenate(parts)[: int(minutes * 60 * 16000)], 16000, subtype="PCM_16")
    return path


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_stream(path: Path, model: Path | None, seconds: float) -> dict[str, float]:
    """Part 1 on ``path``: the live CLI as its own process, its lines timed as they arrive."""
    from core.audio.features import frame_count

    cmd = [sys.executable, "-m", "core.cli", "live", "--input", str(path), "--realtime", "--jsonl", "-"]
    if model is not None:
        cmd += ["--model", str(model)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    mem: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            mem.append((time.time(), rss_mb(proc.pid)))
            done.wait(1.0)

    threading.Thread(target=sample, daemon=True).start()
    assert proc.stdout is not None
    started, block, rate, lat, frames = 0.0, 320, 16000, [], []
    for line in proc.stdout:
        now = time.time()
        d = json.loads(line)
        if d.get("event") == "started":
            started, block, rate = d["wall"], d["block"], d["rate"]
            continue
        if "frame" not in d:
            continue
        last = int(round(d["t"] * rate)) - 1  # the frame's last sample, and the block that carried it
        fed = started + (last // block) * block / rate
        if last < seconds * rate:  # the tail after the file (its look-ahead as silence) is not a microphone's
            lat.append(now - fed)
        frames.append(d["frame"])
    done.set()
    err = proc.stderr.read() if proc.stderr else ""
    if proc.wait() != 0:
        raise SystemExit(f"parley live failed: {err[-2000:]}")
    expected = frame_count(seconds, 30.0)
    gaps = int(np.sum(np.diff(frames) != 1)) if len(frames) > 1 else 0
    a = np.asarray(lat) * 1000
    t = np.array([m[0] for m in mem])
    r = np.array([m[1] for m in mem])
    keep = (t - t[0] > 30) & np.isfinite(r) if len(t) else np.zeros(0, bool)
    slope = float(np.polyfit((t[keep] - t[0]) / 60, r[keep], 1)[0]) if keep.sum() > 5 else float("nan")
    return {"median_ms": float(np.median(a)), "p95_ms": float(np.percentile(a, 95)), "max_ms": float(a.max()),
            "frames": len(frames), "expected": expected, "missing": expected - len(set(frames)), "gaps": gaps,
            "rss_start_mb": float(r[keep][0]) if keep.sum() else float("nan"),  # at 30 s: loaded and warm
            "rss_end_mb": float(r[np.isfinite(r)][-1]) if len(r) else float("nan"), "rss_slope_mb_per_min": slope}


def live_take(net, face, samples: np.ndarray, fps: float,  # type: ignore[no-untyped-def]
              shape_range: bool = False, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, float]]]:
    """The whole clip through the live engine in 20 ms blocks: (T, 52) ARKit, (T, 20) expression and the brow
    raises (accent frame, start frame, amplitude)."""
    from core.live.engine import LiveEngine

    e = LiveEngine(net, face, fps=fps, shape_range=shape_range, seed=seed)
    frames = []
    for i in range(0, len(samples), 320):
        frames += e.feed(samples[i : i + 320])
    frames += e.finish()
    return np.stack([f.arkit for f in frames]), np.stack([f.expression for f in frames]), list(e.brows.onsets)


def offline_raises(samples: np.ndarray, n: int, fps: float, take: int) -> tuple[np.ndarray, np.ndarray]:
    """(every accent frame, the accent frames whose brow raise ``spontaneous.brows`` draws) of a clip offline."""
    from core.models import spontaneous as spm

    pr = spm.prosody(samples, n, fps)
    rng = np.random.default_rng(take + spm.BROW_SEED)
    raised = [k for k, s, rise in zip(pr.accents, pr.strength, pr.pitch_rise, strict=True)
              if spm.brow_amplitude(rng, rise, s) > 0]
    return pr.accents, np.asarray(raised, np.int64)


#: Synthetic voices no Parley model trained on (``core.data.tts.TRAIN_VOICES`` are the ones that were), and their lines.
HELD_SYNTH = ("festival:slt", "flite:awb", "flite:slt")
SYNTH_LINES = ("The bright lamp by the window shone on my papers all evening.",
               "Put the bag of apples on the table before you go.",
               "Why would anyone move a boat over a mountain?")


def synthetic(out: Path) -> list[tuple[str, Path]]:
    """The held-out synthetic voices saying ``SYNTH_LINES`` (made once, under ``out``); none where not installed."""
    import soundfile as sf

    from core.data.tts import available, synthesize

    files = []
    for voice in HELD_SYNTH:
        if not available(voice):
            continue
        for i, line in enumerate(SYNTH_LINES):
            path = out / "synth" / f"{voice.replace(':', '_')}_{i}.wav"
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, synthesize(line, voice).samples, 16000, subtype="PCM_16")
            files.append(("synthetic held-out", path))
    return files


def voices(folder: Path) -> list[tuple[str, Path]]:
    """(group, file) for part 2."""
    out = [("demo voice", REPO / "core" / "assets" / "demo_voice.flac"), *synthetic(folder)]
    test = SHARED / "librispeech" / "test-other"
    for reader in sorted(p for p in test.iterdir() if p.is_dir()) if test.is_dir() else []:
        from core.train.live import HELD_PER_READER

        out += [("libri test-other", f) for f in sorted(reader.glob("*.flac"))[HELD_PER_READER : HELD_PER_READER + 2]]
    grid = SHARED / "grid"
    if grid.is_dir():
        out += [("grid held-out", f) for f in sorted((grid / "s4").glob("*.mp4"))[:10]]
        out += [("grid held-out", f) for s in ("s23", "s26", "s30", "s32", "s33", "s34")
                for f in sorted((grid / s).glob("*.mp4"))[:2]]
    return out


def _plot(off: np.ndarray, live: np.ndarray, path: Path, key: str = "jawOpen") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(len(off)) / 30.0
    fig, ax = plt.subplots(figsize=(10, 2.8), dpi=100)
    ax.plot(t, off, label="offline (parley animate)", lw=1.4)
    ax.plot(t, live, label="live (parley live)", lw=1.2)
    ax.set_xlabel("s")
    ax.set_ylabel(key)
    ax.legend(loc="upper right")
    ax.set_title(f"the demo voice: {key}, offline and live")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def vs_offline(net, files: list[tuple[str, Path]],  # type: ignore[no-untyped-def]
               shape_range: bool = False, plot: Path | None = None,
               brows: dict[str, list[tuple[float, int, int, list[float]]]] | None = None,
               ) -> dict[str, tuple[float, float]]:
    """Per group: mean jawOpen r (live vs offline) and the mean amplitude ratio (std live / std offline). With
    ``brows`` (a dict), each clip's brow raises go into it per group: (seconds, offline raises, live raises, each live
    raise's delay after the nearest offline accent, s; negative: before it)."""
    from core.animate import animate
    from core.audio.decode import load_audio
    from core.face.arkit import ARKIT_NAMES
    from core.models.spontaneous import take_seed
    from core.reference import face_reference

    face = face_reference(None)
    jaw = ARKIT_NAMES.index("jawOpen")
    per: dict[str, list[tuple[float, float]]] = {}
    for group, f in files:
        audio = load_audio(f)
        take = take_seed(0, audio.samples)  # offline's take of seed 0; live gets the same seed
        res = animate(audio, face)
        off = res.arkit[:, jaw]
        arkit, _, onsets = live_take(net, face, audio.samples, 30.0, shape_range, take)
        live = arkit[: len(off), jaw]
        if group == "demo voice" and not shape_range and plot is not None:
            _plot(off, live, plot)
            _plot(res.arkit[:, ARKIT_NAMES.index("browInnerUp")], arkit[: len(off), ARKIT_NAMES.index("browInnerUp")],
                  plot.with_name(plot.name.replace("jaw_", "brows_")), "browInnerUp")
        if brows is not None:
            accents, raised = offline_raises(audio.samples, len(off), 30.0, take)
            delays = [(start - accents[np.argmin(np.abs(accents - start))]) / 30.0 for _, start, _ in onsets
                      if len(accents)]
            brows.setdefault(group, []).append((len(off) / 30.0, len(raised), len(onsets), delays))
        per.setdefault(group, []).append((float(np.corrcoef(off, live)[0, 1]), float(live.std() / off.std())))
    every = sum(per.values(), [])
    return {g: (float(np.mean([x[0] for x in v])), float(np.mean([x[1] for x in v]))) for g, v in per.items()} | {
        "all": (float(np.mean([x[0] for x in every])), float(np.mean([x[1] for x in every])))}


def footage(out: Path, grid_clips: int) -> list[tuple[str, list]]:  # type: ignore[type-arg]
    """Tracked real clips (cached): dev-av, and GRID's held-out speakers."""
    sys.path.insert(0, str(REPO))
    from benchmarks.bench_real_footage import load_group_clips
    from core.data.prepare import prepare
    from core.data.splits import REST_SPEAKERS

    groups = []
    dev = SHARED / "dev-av"
    if dev.is_dir():
        cache = out / "dev-av"
        if not (cache / "manifest.json").is_file():
            prepare([dev], cache)
        groups.append(("dev-av", load_group_clips(cache)))
    grid = SHARED / "grid"
    if grid.is_dir():
        cache = out / "grid"
        files = sorted((grid / "s4").glob("*.mp4"))[:grid_clips] + [
            f for s in sorted(grid.iterdir()) if s.is_dir() and s.name not in REST_SPEAKERS + ("s4", "align")
            for f in sorted(s.glob("*.mp4"))]
        if not (cache / "manifest.json").is_file():
            prepare(files, cache)
        groups.append(("grid held-out", load_group_clips(cache)))
    return groups


def vs_truth(net, groups: list[tuple[str, list]]) -> dict[str, tuple[float, float]]:  # type: ignore[no-untyped-def]
    """Per group: mean aperture r at lag 0, offline and live."""
    from core.animate import animate
    from core.audio.decode import Audio
    from core.face.geometry import mouth_aperture
    from core.loading import default_models
    from core.reference import Reference

    comps = default_models().pca.components
    out = {}
    for g, clips in groups:
        rs = []
        for c in clips:
            ref = Reference.from_frames(c.landmarks[0], c.key)
            audio = Audio(c.audio, 16000, 16000, 1, c.key)
            off = animate(audio, ref, fps=c.fps)
            _, q, _ = live_take(net, ref, c.audio, c.fps)
            n = min(off.frames, c.frames, len(q))
            lm = ref.identity[None] + (q[:n] @ comps[: q.shape[1]]).reshape(n, -1, 3)
            truth = c.aperture[:n]
            rs.append((float(np.corrcoef(mouth_aperture(off.landmarks[:n]), truth)[0, 1]),
                       float(np.corrcoef(mouth_aperture(lm), truth)[0, 1])))
        out[g] = (float(np.mean([r[0] for r in rs])), float(np.mean([r[1] for r in rs])))
    return out


def apply_rate(frames: int = 300) -> float | None:
    """Part 4: frames per second Blender's main thread can show — the add-on's ``live_scene.show`` on the Parley
    head (its GLB imported: 52 ARKit keys, ~35k vertices) plus the depsgraph update that evaluates the keys, as the
    viewport does before it draws (the drawing itself is not timed: the bpy module has no window). None without bpy."""
    try:
        import bpy
    except ImportError:
        return None
    from addon import live_scene
    from addon.scene import HeadTarget
    from core.face.reconstruct import reconstruct

    glb = Path(REPO / "out" / "bench_live" / "head.glb")
    if not glb.is_file():
        glb.parent.mkdir(parents=True, exist_ok=True)
        from core.face.gltf import write_glb

        write_glb(reconstruct(REPO / "core" / "assets" / "demo_face.jpg").full_head(), glb)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=str(glb))
    obj = next(o for o in bpy.data.objects if o.type == "MESH")
    keys = {n: n for n in live_scene.ARKIT_NAMES if n in obj.data.shape_keys.key_blocks}
    s = live_scene.Session(feed=None, obj_name=obj.name, target=HeadTarget(), fps=30.0, keys=keys)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    times = []
    for _ in range(frames):
        frame = {"arkit": rng.uniform(0, 0.6, 52).tolist(), "pose": (rng.normal(0, 0.05, 6)).tolist()}
        t0 = time.perf_counter()
        live_scene.show(s, frame)
        obj.delta_rotation_euler = frame["pose"][:3]  # as on a Parley head
        bpy.context.view_layer.update()
        times.append(time.perf_counter() - t0)
    return float(1.0 / np.median(times))


def print_brows(raises: dict[str, list[tuple[float, int, int, list[float]]]]) -> None:
    """Brow raises per minute offline and live, and how long after its accent a live raise begins."""
    every = [x for v in raises.values() for x in v]
    print("brow raises, offline → live: per minute; live raises begun within 0.3 s of an offline accent; median "
          "delay after the nearest accent")
    for g, v in [*raises.items(), ("all", every)]:
        minutes = sum(x[0] for x in v) / 60
        delays = np.asarray([d for x in v for d in x[3]])
        on = float(np.mean(np.abs(delays) <= 0.3)) if len(delays) else float("nan")
        med = float(np.median(delays)) if len(delays) else float("nan")
        print(f"  {g:20} {sum(x[1] for x in v) / minutes:5.1f} → {sum(x[2] for x in v) / minutes:5.1f} per minute; "
              f"{100 * on:5.1f} % on an accent; delay {1000 * med:4.0f} ms", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the latency/memory stream (default 10)")
    ap.add_argument("--models", nargs="*", default=[], help="live checkpoints to compare (default: the shipped one)")
    ap.add_argument("--table-seconds", type=float, default=60.0, help="stream length per model with several models")
    ap.add_argument("--grid-clips", type=int, default=20, help="GRID s4 clips tracked for part 3 (default 20)")
    ap.add_argument("--skip", nargs="*", default=[], choices=("stream", "offline", "footage", "apply"))
    ap.add_argument("--out", default=str(REPO / "out" / "bench_live"))
    args = ap.parse_args()
    import torch

    from core.live.run import LIVE_MODEL, load_live

    torch.set_num_threads(2)
    out = Path(args.out)
    models = [Path(m) for m in args.models] or [LIVE_MODEL]
    several = len(models) > 1
    groups = footage(out, args.grid_clips) if "footage" not in args.skip else []
    files = voices(out) if "offline" not in args.skip else []
    if "apply" not in args.skip:
        rate = apply_rate()
        print("Blender (bpy module): the add-on shows a live frame and the depsgraph evaluates it at "
              + (f"{rate:.0f} frames/s (median of 300), drawing not included" if rate else "— no bpy here"), flush=True)
    for model in models:
        net = load_live(model)
        print(f"\n## {model.name}: look-ahead {net.cfg.lookahead_s * 1000:.0f} ms after the frame's start "
              f"({(net.cfg.lookahead_s + 0.0125 - 1 / 30) * 1000:.0f} ms after its end at 30 fps)", flush=True)
        if "stream" not in args.skip:
            minutes = args.table_seconds / 60 if several else args.minutes
            path = stream_file(minutes, out)
            s = run_stream(path, None if model == LIVE_MODEL else model, minutes * 60)
            print(f"stream {minutes:g} min at real pace: latency median {s['median_ms']:.1f} ms, p95 "
                  f"{s['p95_ms']:.1f} ms, max {s['max_ms']:.1f} ms; frames {s['frames']} of {s['expected']} "
                  f"({s['missing']} missing, {s['gaps']} out of order); memory at 30 s {s['rss_start_mb']:.0f} → end "
                  f"{s['rss_end_mb']:.0f} MB, slope after 30 s {s['rss_slope_mb_per_min']:+.2f} MB/min", flush=True)
        for shaped in (False, True) if files else ():
            raises: dict[str, list[tuple[float, int, int, list[float]]]] = {}
            r = vs_offline(net, files, shaped, out / f"jaw_demo_{model.stem}.png", None if shaped else raises)
            print(f"jawOpen, live vs offline `parley animate` (same file, built-in face), "
                  f"{'with' if shaped else 'without'} the causal lip range — r (amplitude ratio): "
                  + ", ".join(f"{g} {v:.3f} ({a:.2f})" for g, (v, a) in r.items()), flush=True)
            if raises:
                print_brows(raises)
        if groups:
            t = vs_truth(net, groups)
            print("aperture r at lag 0 against the real talkers, offline → live: "
                  + ", ".join(f"{g} {a:.3f} → {b:.3f} ({b - a:+.3f})" for g, (a, b) in t.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
