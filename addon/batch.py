"""Synchronous runs for the command line: each audio file in a fresh scene, the face reconstructed once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy

from . import local_server, operators, prefs, scene, workflow


@dataclass
class Outcome:
    audio: Path
    out: Path
    ok: bool
    error: str = ""


def _write(face: Path, rec: dict[str, Any], audio: Path, m: Any, out: Path) -> None:
    """A fresh scene with the face, the animation and the sound, written to ``out``."""
    scene.clear_scene(bpy.context.scene)
    obj = scene.build_face(bpy.context, f"Parley_{face.stem}", rec)
    obj["parley_source"] = str(face.resolve())
    info = scene.apply(bpy.context, obj, m, str(audio.resolve()), title=f"{obj.name} {audio.stem}")
    for w in info["warnings"] if out.suffix.lower() == ".blend" else []:  # a .glb/.fbx never carries the sound
        print(f"Parley: warning: {audio.name}: {w}", flush=True)
    operators.export(bpy.context, obj, str(out))


def run(audio: list[Path], face: Path, outs: list[Path], fps: float, text: str | None = None,
        auto_start: bool = True, articulation: float = 1.0) -> list[Outcome]:  # fmt: skip
    """Animate ``face`` with each audio file and write each output; failures are recorded, not raised."""
    url, _, auto, exe = prefs.settings()
    auto = auto and auto_start
    client = prefs.client()
    had_server = local_server.started_here()  # stop only a server this run starts
    results: list[Outcome] = []
    rec: dict[str, Any] | None = None
    try:
        try:
            workflow.ensure_server(client, auto, exe, lambda f, s: print(f"Parley: {s}", flush=True))
            face_upload = workflow.read_upload(str(face), "face")
            rec = workflow.reconstruct(client, str(face), lambda f, s: None, lambda: False)
        except Exception as exc:  # nothing can be made without a server and a face
            why = workflow.message(exc)
            return [Outcome(a, o, False, why) for a, o in zip(audio, outs, strict=True)]
        for a, out in zip(audio, outs, strict=True):
            try:
                m = workflow.animate(client, str(a), face_upload, fps, text, lambda f, s: None, lambda: False,
                                     articulation, str(rec.get("face_id", "")))  # the face is tracked once
                _write(face, rec, a, m, out)
                results.append(Outcome(a, out, True))
            except Exception as exc:
                results.append(Outcome(a, out, False, workflow.message(exc)))
                Path(out).unlink(missing_ok=True)  # nothing half-written
            print(f"Parley: {len(results)}/{len(audio)} {a.name}: {'ok' if results[-1].ok else results[-1].error}",
                  flush=True)  # fmt: skip
    finally:
        if not had_server and local_server.started_here():
            local_server.stop()
    return results
