"""Synchronous runs for the command line: each audio file in a fresh scene (the face reconstructed once), or in a
fresh copy of the user's rig."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy

from . import local_server, operators, prefs, scene, workflow
from .face import build_face


@dataclass
class Outcome:
    audio: Path
    out: Path
    ok: bool
    error: str = ""


def _write(face: Path, rec: dict[str, Any], audio: Path | None, m: Any, out: Path, line: str = "") -> None:
    """A fresh scene with the face, the animation and the sound (if any), written to ``out``."""
    title = line or (audio.stem if audio is not None else out.stem)
    scene.clear_scene(bpy.context.scene)
    obj = build_face(bpy.context, f"Parley_{face.stem}", rec)
    obj["parley_source"] = str(face.resolve())
    info = scene.apply(bpy.context, obj, m, str(audio.resolve()) if audio else None, title=f"{obj.name} {title}")
    said = audio.name if audio is not None else title
    for w in info["warnings"] if out.suffix.lower() == ".blend" else []:  # a .glb/.fbx never carries the sound
        print(f"Parley: warning: {said}: {w}", flush=True)
    operators.export(bpy.context, obj, str(out))


def write_result(head: Path, result: Path, audio: Path | None, out: Path) -> None:
    """A result as it is, on the head Parley wrote for it (``parley reconstruct --out head.glb``), with its sound:
    no server, nothing re-animated — the curves a person reviewed are the curves written.

    Raises:
        ResultError, GLBError, SceneError: not a result, not a Parley head, or a head without the ARKit keys.
    """
    from .glb import read_head
    from .motion import parse_result

    m = parse_result(result.read_bytes())
    mesh = head.read_bytes()
    names = read_head(mesh).key_names
    if m.arkit is not None and names != m.arkit_names:
        raise scene.SceneError(f"{head}: its shape keys are not the result's {len(m.arkit_names)} ARKit curves "
                               "(give the head `parley reconstruct --out head.glb` wrote)")
    rec = {"mesh": mesh, "rig": {"kind": "arkit", "names": names}}
    try:
        _write(head, rec, audio, m, out, result.stem)
    except BaseException:
        out.unlink(missing_ok=True)  # nothing half-written
        raise


def run(audio: list[Path], face: Path, outs: list[Path], fps: float, texts: list[str | None] | None = None,
        auto_start: bool = True, articulation: float = 1.0,
        motion: dict[str, str] | None = None, language: str = "en") -> list[Outcome]:
    """Animate ``face`` with each audio file (and its script in ``texts``, if any) and write each output; failures
    are recorded, not raised."""
    script = dict(zip(audio, texts or [None] * len(audio), strict=True))

    def reconstruct(client: Any) -> dict[str, Any]:  # once: nothing can be made without the face
        return workflow.reconstruct(client, str(face), lambda f, s: None, lambda: False)

    def write(client: Any, face_upload: Any, rec: Any, a: Path, out: Path) -> None:
        m = workflow.animate(client, str(a), face_upload, fps, script[a], lambda f, s: None, lambda: False,
                             articulation, str(rec.get("face_id", "")), motion, language)  # the face: tracked once
        _write(face, rec, a, m, out)

    return _each(audio, face, outs, auto_start, write, reconstruct)


@dataclass
class Rig:
    """A user's character: the .blend, the mesh with ARKit shape keys, and optionally the head bone."""

    path: Path
    mesh: str
    armature: str = ""
    bone: str = ""


def _open_rig(rig: Rig) -> tuple[Any, scene.HeadTarget]:
    """Open the rig's .blend and find its mesh and head target.

    Raises:
        scene.SceneError: no such mesh, no ARKit keys on it, no such armature or bone.
    """
    bpy.ops.wm.open_mainfile(filepath=str(rig.path), load_ui=False)
    obj = bpy.data.objects.get(rig.mesh)
    if obj is None:
        meshes = ", ".join(sorted(o.name for o in bpy.data.objects if o.type == "MESH")[:8]) or "none"
        raise scene.SceneError(f"{rig.path.name} has no object '{rig.mesh}' (its meshes: {meshes})")
    target = scene.HeadTarget()
    if rig.bone:
        arm = bpy.data.objects.get(rig.armature) if rig.armature else _armature_of(obj)
        if arm is None:
            raise scene.SceneError(f"no armature for --bone {rig.bone}: name it with --armature")
        target = scene.HeadTarget(arm, rig.bone)
    scene.plan_check(obj, target)
    return obj, target


def _armature_of(obj: Any) -> Any:
    if obj.parent is not None and obj.parent.type == "ARMATURE":
        return obj.parent
    for mod in obj.modifiers:
        if mod.type == "ARMATURE" and mod.object is not None:
            return mod.object
    arms = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    return arms[0] if len(arms) == 1 else None


def check_rig(rig: Rig) -> str:
    """What stops Parley from driving this rig ('' when nothing does), found before a server starts."""
    try:
        _open_rig(rig)
    except (scene.SceneError, RuntimeError) as exc:
        return str(exc)
    return ""


def run_rig(audio: list[Path], rig: Rig, face: Path | None, outs: list[Path], fps: float,
            texts: list[str | None] | None = None, auto_start: bool = True, articulation: float = 1.0,
            motion: dict[str, str] | None = None, language: str = "en") -> list[Outcome]:
    """Drive the rig's ARKit shape keys (and head bone) with each audio file (and its script in ``texts``), each
    output from a fresh copy."""
    script = dict(zip(audio, texts or [None] * len(audio), strict=True))

    def write(client: Any, face_upload: Any, a: Path, out: Path) -> None:
        obj, target = _open_rig(rig)
        m = workflow.animate(client, str(a), face_upload, fps, script[a], lambda f, s: None, lambda: False,
                             articulation, motion=motion, language=language)
        info = scene.apply(bpy.context, obj, m, str(a.resolve()), target, title=f"{obj.name} {a.stem}")
        keyed = len(info["keyed"])
        print(f"Parley: {a.name}: {keyed} shape keys of '{obj.name}' driven", flush=True)
        for w in info["warnings"]:
            if out.suffix.lower() == ".blend" or "sound strip" not in w:
                print(f"Parley: warning: {a.name}: {w}", flush=True)
        also = [target.armature] if target.armature is not None else []
        operators.export(bpy.context, obj, str(out), also)

    return _each(audio, face, outs, auto_start, lambda c, f, _, a, o: write(c, f, a, o))


def _each(audio: list[Path], face: Path | None, outs: list[Path], auto_start: bool,
          write: Callable[[Any, Any, Any, Path, Path], None],
          prepare: Callable[[Any], Any] | None = None) -> list[Outcome]:
    """Start (or find) the server, read the face, run ``prepare`` once, then ``write`` each output: one bad file
    never stops the rest, and a server this run started is stopped at the end."""
    url, _, auto, exe = prefs.settings()
    client = prefs.client()
    had_server = local_server.started_here()
    results: list[Outcome] = []
    try:
        try:
            workflow.ensure_server(client, auto and auto_start, exe, lambda f, s: print(f"Parley: {s}", flush=True))
            face_upload = workflow.read_upload(str(face), "face") if face is not None else None
            ctx = prepare(client) if prepare is not None else None
        except Exception as exc:  # nothing can be made without a server (and the face)
            why = workflow.message(exc)
            return [Outcome(a, o, False, why) for a, o in zip(audio, outs, strict=True)]
        for a, out in zip(audio, outs, strict=True):
            try:
                write(client, face_upload, ctx, a, out)
                results.append(Outcome(a, out, True))
            except Exception as exc:
                results.append(Outcome(a, out, False, workflow.message(exc)))
                Path(out).unlink(missing_ok=True)  # nothing half-written
            print(f"Parley: {len(results)}/{len(audio)} {a.name}: {'ok' if results[-1].ok else results[-1].error}",
                  flush=True)
    finally:
        if not had_server and local_server.started_here():
            local_server.stop()
    return results
