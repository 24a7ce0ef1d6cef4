"""Writing an animation into Blender: 60 s at 30 fps onto a Parley head (its 52 ARKit shape keys + head transform).

    .venv/bin/python benchmarks/bench_apply.py [--seconds 60] [--fps 30] [--runs 7]

Runs in the bpy module, with the add-on's own code (``addon.scene.apply``: slider ranges, two Actions
written with ``keyframe_points.add`` + ``foreach_set``, scene fps/range, the sound strip). The face is
built from the demo photo and the shipped models in-process (no server: only the write is timed). The
curves are the shipped motion model's output for the demo voice, looped to the length asked for.
Prints the median and the spread of ``--runs`` applications (each replaces the previous one, as a re-run
in Blender does), plus result parsing (NPZ bytes → checked curves) on its own. Goal: apply ≤ 0.5 s.
The head is what ``POST /v1/reconstruct`` sends the add-on: the full ICT head's GLB and its ARKit rig.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _saved(res: object, folder: Path) -> bytes:
    path = folder / "result.npz"
    res.save(path)  # type: ignore[attr-defined]
    return path.read_bytes()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args()

    from core.animate import animate
    from core.face.gltf import write_glb
    from core.face.reconstruct import reconstruct
    from core.loading import load_models
    from core.reference import face_reference
    from server.work import rig

    models = load_models()
    face = REPO / "core" / "assets" / "demo_face.jpg"
    voice = REPO / "core" / "assets" / "demo_voice.flac"
    rec = reconstruct(face)
    with tempfile.TemporaryDirectory() as tmp:
        glb = write_glb(rec.full_head(), Path(tmp) / "head.glb").read_bytes()
        audio, rate = sf.read(voice, dtype="float32")
        reps = int(np.ceil(args.seconds * rate / len(audio)))
        long = Path(tmp) / "long.wav"
        sf.write(long, np.tile(audio, reps)[: int(args.seconds * rate)], rate)
        res = animate(long, face_reference(face), fps=args.fps, models=models)
        data = _saved(res, Path(tmp))
        info: dict[str, object] = {"mesh_glb": base64.b64encode(glb).decode(), "rig": rig()}

        import bpy

        from addon import motion, scene
        from addon.face import build_face

        bpy.ops.wm.read_factory_settings(use_empty=True)
        ctx = bpy.context
        info["mesh"] = base64.b64decode(str(info.pop("mesh_glb")))
        obj = build_face(ctx, "Bench", info)
        parse: list[float] = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            m = motion.parse_result(data)
            parse.append(time.perf_counter() - t0)
        times: list[float] = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            out = scene.apply(ctx, obj, m, str(long), title="bench")
            times.append(time.perf_counter() - t0)
        keys = len(scene.action_fcurves(obj.data.shape_keys.animation_data.action))
        head = len(scene.action_fcurves(obj.animation_data.action))
        print(f"{m.frames} frames ({args.seconds:g} s at {args.fps:g} fps), {keys} shape-key + {head} head curves")
        print(f"apply: median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, "
              f"{args.runs} runs); goal <= 0.5 s")
        print(f"parse result NPZ: median {statistics.median(parse) * 1000:.1f} ms")
        print(f"frames written: {out['frames']}; actions in file: {len(bpy.data.actions)} (replaced, not stacked)")


if __name__ == "__main__":
    main()
