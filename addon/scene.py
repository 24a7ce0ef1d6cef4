"""Blender data: the animation written onto a face or a rig — shape-key and head actions, NLA tracks, scene
frame rate and range, the sound strip (main thread only). The face object itself is ``face.py``'s.

Everything that can fail is computed before the first bpy datablock is touched, so a bad result never
leaves a half-made object or a partial Action behind.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import bpy
import numpy as np

from . import motion as mo
from .arkit import match_rig
from .face import NLA_FACE_TRACK, NLA_TRACK, OWNED_TAG, RIG_TAG, SceneError, arkit_keys, is_parley_face, why_not_face


@dataclass
class HeadTarget:
    """Where the head motion goes: the face object itself, or a bone of an armature."""

    armature: bpy.types.Object | None = None
    bone: str = ""


@dataclass
class Plan:
    """Everything to write, computed (and checked) before any datablock changes."""

    fps: tuple[int, float]
    frames: int
    keys: dict[str, np.ndarray]  # shape-key name → keyframe co array
    sliders: dict[str, tuple[float, float]]
    head: dict[tuple[str, int], np.ndarray]  # (data path, index) → co array
    rotation_mode: str
    warnings: list[str]


def plan_check(obj: bpy.types.Object | None, target: HeadTarget) -> dict[str, Any]:
    """Check that Parley can drive ``obj`` and that the head target is usable; returns the rig to drive.

    A Parley head and any mesh with ARKit-named shape keys give ``{"kind": "arkit"}``; a face made by Parley
    before the full head (EXP_00…, BLINK_R/L keys) gives its stored rig.

    Raises:
        SceneError: what is wrong, said so that a person knows what to do.
    """
    why = why_not_face(obj)
    if why or obj is None:
        raise SceneError(why)
    rig: dict[str, Any] = json.loads(obj[RIG_TAG]) if is_parley_face(obj) else {"kind": "arkit"}
    if rig.get("kind") != "arkit":
        blocks = obj.data.shape_keys.key_blocks if obj.data.shape_keys else {}
        missing = [n for n in (*rig["names"], *rig["blink_names"]) if n not in blocks]
        if missing:
            raise SceneError(f"'{obj.name}' lacks the shape keys {', '.join(missing[:4])}: reconstruct the face again")
    elif not arkit_keys(obj)[0]:
        raise SceneError(f"'{obj.name}' has lost its ARKit shape keys: reconstruct the face again")
    arm = target.armature
    if arm is not None:
        if arm.type != "ARMATURE":
            raise SceneError(f"'{arm.name}' is not an armature")
        if arm.data.bones.get(target.bone) is None:
            raise SceneError(f"the armature '{arm.name}' has no bone '{target.bone}': choose its head bone")
    return rig


def _arkit_keys(obj: bpy.types.Object, m: mo.Motion, warnings: list[str]) -> dict[str, np.ndarray]:
    """Keyframes for each of the mesh's shape keys that a result's ARKit curve names; the rest are untouched."""
    if m.arkit is None:
        raise SceneError("this result has no ARKit curves (the server is older than the add-on): update Parley")
    found, missing = match_rig(m.arkit_names, [k.name for k in obj.data.shape_keys.key_blocks])
    if not found:
        raise SceneError(f"'{obj.name}' has none of the result's {len(m.arkit_names)} ARKit shape keys")
    column = {n: i for i, n in enumerate(m.arkit_names)}
    if missing:
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        warnings.append(f"'{obj.name}' lacks {len(missing)} of the ARKit shapes ({shown}): those curves were skipped")
    return {key: mo.keyframe_coords(np.clip(m.arkit[:, column[a]], 0.0, 1.0)) for a, key in found.items()}


def plan(obj: bpy.types.Object, m: mo.Motion, target: HeadTarget) -> Plan:
    """Turn a result into keyframe arrays for ``obj`` (a Parley head or face, or a mesh with ARKit shape keys).

    Raises:
        SceneError: nothing Parley can drive, shape keys missing, or a bad head target.
    """
    rig = plan_check(obj, target)
    warnings: list[str] = []
    slider: dict[str, tuple[float, float]] = {}
    if rig.get("kind") == "arkit":
        keys = _arkit_keys(obj, m, warnings)  # weights are 0–1: inside every slider, whose ranges stay the rig's
    else:  # a face from Parley before the full head: PCA keys and blink keys
        values = mo.key_values(m, np.asarray(rig["scale"]))
        sliders = mo.slider_ranges(values, np.asarray(rig["ranges"]))
        keys = {name: mo.keyframe_coords(values[:, k]) for k, name in enumerate(rig["names"])}
        slider = {name: (float(sliders[k, 0]), float(sliders[k, 1])) for k, name in enumerate(rig["names"])}
        for k, name in enumerate(rig["blink_names"]):
            keys[name] = mo.keyframe_coords(np.clip(m.blink[:, k], 0.0, 1.0))
            slider[name] = (0.0, 1.0)
    head: dict[tuple[str, int], np.ndarray] = {}
    mode = ""
    if target.armature is not None:
        bone = target.armature.data.bones[target.bone]
        rest = np.array([list(r) for r in bone.matrix_local.to_3x3()])
        quat, loc = mo.bone_pose(m.pose, rest)
        base = f'pose.bones["{bpy.utils.escape_identifier(bone.name)}"]'
        for i in range(4):
            head[f"{base}.rotation_quaternion", i] = mo.keyframe_coords(quat[:, i])
        for i in range(3):
            head[f"{base}.location", i] = mo.keyframe_coords(loc[:, i])
        mode = "QUATERNION"
    elif is_parley_face(obj):
        # on the delta transform: the head moves about wherever the animator put, turned or scaled the face
        euler, loc = mo.object_pose(m.pose)
        for i in range(3):
            head["delta_rotation_euler", i] = mo.keyframe_coords(euler[:, i])
            head["delta_location", i] = mo.keyframe_coords(loc[:, i])
        mode = "XZY"
    else:  # a character's mesh: moving the whole object would move the body; the head needs its bone
        warnings.append("no head motion: choose the rig's armature and head bone (Head: Bone) to move the head")
    return Plan(mo.scene_fps(m.fps), m.frames, keys, slider, head, mode, warnings)


#: Blender 4.4 made actions layered with slots, and 5.0 removed the legacy ``Action.fcurves``: from 4.4 on every
#: curve lives in a slot's channel bag on a keyframe strip; 4.2 and 4.3 keep the flat list.
SLOTTED = bpy.app.version >= (4, 4, 0)


def _new_action(name: str, curves: dict[tuple[str, int], np.ndarray], group: str, id_type: str) -> bpy.types.Action:
    """An action holding ``curves`` (keyframes in bulk), for an ID of ``id_type`` ('OBJECT', 'KEY')."""
    action = bpy.data.actions.new(name)
    action[OWNED_TAG] = 1
    if SLOTTED:
        slot = action.slots.new(id_type=id_type, name=group)
        bag = action.layers.new("Parley").strips.new(type="KEYFRAME").channelbag(slot, ensure=True)
        grp = bag.groups.new(group)

        def new_curve(path: str, index: int) -> bpy.types.FCurve:
            fc = bag.fcurves.new(path, index=index)
            fc.group = grp
            return fc
    else:

        def new_curve(path: str, index: int) -> bpy.types.FCurve:
            return action.fcurves.new(path, index=index, action_group=group)

    for (path, index), co in curves.items():
        fc = new_curve(path, index)
        fc.keyframe_points.add(len(co) // 2)
        fc.keyframe_points.foreach_set("co", co)
        fc.update()
    return action


def action_fcurves(action: bpy.types.Action | None) -> list[bpy.types.FCurve]:
    """Every F-curve of an action, layered (4.4+) or flat (4.2)."""
    if action is None:
        return []
    if not SLOTTED:
        return list(action.fcurves)
    return [fc for layer in action.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves]


def _assign(owner: bpy.types.ID, action: bpy.types.Action) -> None:
    """Make ``action`` the owner's active action, dropping a previous Parley action nobody else uses."""
    ad = owner.animation_data or owner.animation_data_create()
    old = ad.action
    ad.action = action
    if SLOTTED and ad.action_slot is None and len(action.slots):
        ad.action_slot = action.slots[0]
    if old is not None and old != action and old.get(OWNED_TAG) and old.users == 0:
        bpy.data.actions.remove(old)


def _strips(scene: bpy.types.Scene) -> Any:
    se = scene.sequence_editor or scene.sequence_editor_create()
    return se.strips if hasattr(se, "strips") else se.sequences  # 4.4 renamed sequences → strips


def _swap_sound(scene: bpy.types.Scene, obj: bpy.types.Object, audio: str, title: str, warnings: list[str]) -> str:
    """The voice as a sound strip in place of the face's previous one; '' (and a warning) when Blender cannot."""
    strips = _strips(scene)
    previous = obj.get("parley_strip")
    used = {s.channel for s in strips if s.name != previous}
    channel = next(c for c in range(1, 129) if c not in used)
    try:
        strip = strips.new_sound(name=f"Parley {title}", filepath=audio, channel=channel, frame_start=1)
    except (RuntimeError, TypeError) as exc:
        # a Blender built without audio (the 4.2 bpy module) refuses every sound: the animation is still worth
        # having, and a .glb/.fbx never carries the sound anyway
        why = str(exc).strip().removeprefix("Error: ").strip()
        warnings.append(f"no sound strip: Blender could not add {os.path.basename(audio)} ({why}); "
                        "add the sound in the Video Sequencer to play it in sync")
        return ""
    if previous and previous in strips and previous != strip.name:
        strips.remove(strips[previous])
    obj["parley_strip"] = strip.name
    return str(strip.name)


def apply(context: bpy.types.Context, obj: bpy.types.Object, m: mo.Motion, audio: str | None,
          target: HeadTarget | None = None, title: str = "") -> dict[str, Any]:
    """Write a result onto a Parley face: shape-key and head actions, scene fps and range, the sound strip.

    A previous Parley animation on the same face (its actions, its sound strip) is replaced.
    Raises SceneError before anything changes when the face or target is unusable. The sound strip is swapped
    last, once the actions are written: a write that fails before leaves the old strip in place (the new actions
    are removed again by ``operators.write_safely``).
    """
    target = target or HeadTarget()
    p = plan(obj, m, target)
    scene = context.scene
    title = title or obj.name
    warnings: list[str] = list(p.warnings)
    key = obj.data.shape_keys
    for name, (lo, hi) in p.sliders.items():
        kb = key.key_blocks[name]
        kb.slider_min, kb.slider_max = lo, hi
    shape_curves = {(f'key_blocks["{bpy.utils.escape_identifier(n)}"].value', 0): co for n, co in p.keys.items()}
    _put_on(key, _new_action(mo.action_name(title, "Face"), shape_curves, "Parley Face", "KEY"), NLA_FACE_TRACK)
    if p.head:
        head_action = _new_action(mo.action_name(title, "Head"), p.head, "Parley Head", "OBJECT")
        if target.armature is None:
            obj.rotation_mode = p.rotation_mode
            _assign(obj, head_action)
        else:
            target.armature.pose.bones[target.bone].rotation_mode = "QUATERNION"
            _put_on(target.armature, head_action, NLA_TRACK)
    scene.render.fps, scene.render.fps_base = p.fps
    scene.frame_start, scene.frame_end = 1, p.frames
    scene.frame_current = 1
    scene.sync_mode = "AUDIO_SYNC"
    strip_name = _swap_sound(scene, obj, audio, title, warnings) if audio else ""
    return {"frames": p.frames, "fps": m.fps, "keys": len(p.keys), "head_curves": len(p.head), "strip": strip_name,
            "warnings": warnings, "keyed": sorted(p.keys)}


def _put_on(owner: bpy.types.ID, action: bpy.types.Action, track_name: str) -> None:
    """Parley's action becomes the owner's active action, unless the animator has one there (a rig's body
    animation, a hand-made facial take): then it goes on an NLA track of its own and theirs stays."""
    ad = owner.animation_data or owner.animation_data_create()
    if ad.action is None or ad.action.get(OWNED_TAG):
        _assign(owner, action)
        return
    old = ad.nla_tracks.get(track_name)
    if old is not None:
        dropped = [s.action for s in old.strips if s.action is not None and s.action.get(OWNED_TAG)]
        ad.nla_tracks.remove(old)
        for a in dropped:
            if a.users == 0:
                bpy.data.actions.remove(a)
    track = ad.nla_tracks.new()
    track.name = track_name
    strip = track.strips.new(action.name, 1, action)
    if SLOTTED and strip.action_slot is None and len(action.slots):
        strip.action_slot = action.slots[0]


def clear_scene(scene: bpy.types.Scene) -> None:
    """Empty the file for the next batch item, keeping preferences and enabled add-ons (unlike a factory reset)."""
    for coll in (bpy.data.objects, bpy.data.meshes, bpy.data.armatures, bpy.data.actions, bpy.data.materials,
                 bpy.data.images, bpy.data.sounds, bpy.data.cameras, bpy.data.lights):
        for item in list(coll):
            coll.remove(item)
    if scene.sequence_editor is not None:  # strip by strip: sequence_editor_clear() has crashed the bpy module
        strips = _strips(scene)
        for strip in list(strips):
            strips.remove(strip)
    for layer in scene.view_layers:
        layer.update()
