"""Blender data: the face object with its shape keys, and the animation written onto it (main thread only).

Everything that can fail is computed before the first bpy datablock is touched, so a bad result never
leaves a half-made object or a partial Action behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import bpy
import numpy as np

from . import motion as mo
from .glb import read_glb

FACE_TAG = "parley_face"
RIG_TAG = "parley_rig"
FACE_ID_TAG = "parley_face_id"  # the server's id of the reconstructed face: Animate need not upload it again
OWNED_TAG = "parley_owned"  # on actions and tracks Parley made, so a re-run knows what it may replace
NLA_TRACK = "Parley Head"


class SceneError(Exception):
    """Something about the Blender scene stops Parley (a mesh that is not a Parley face, a missing bone)."""


# ------------------------------------------------------------------------------------------------
# face
# ------------------------------------------------------------------------------------------------
def build_face(context: bpy.types.Context, name: str, rec: dict[str, Any]) -> bpy.types.Object:
    """A textured mesh object from a reconstruct result: Basis, EXP_00…, BLINK_R/L shape keys; linked, selected."""
    glb = read_glb(rec["mesh"])
    rig = rec["rig"]
    deltas = mo.to_blender_points(np.asarray(rig["deltas"], dtype=np.float64))
    blinks = mo.to_blender_points(np.asarray(rig["blink_deltas"], dtype=np.float64))
    n = len(glb.vertices)
    if deltas.shape[1:] != (n, 3) or blinks.shape[1:] != (n, 3):
        raise SceneError(f"the rig has {deltas.shape[1]} points but the mesh {n} vertices")
    verts = mo.to_blender_points(glb.vertices)

    mesh = bpy.data.meshes.new(name)
    mesh.vertices.add(n)
    mesh.vertices.foreach_set("co", verts.astype(np.float32).ravel())
    m = len(glb.triangles)
    mesh.loops.add(3 * m)
    mesh.loops.foreach_set("vertex_index", glb.triangles.ravel())
    mesh.polygons.add(m)
    mesh.polygons.foreach_set("loop_start", np.arange(0, 3 * m, 3, dtype=np.int32))
    mesh.polygons.foreach_set("loop_total", np.full(m, 3, dtype=np.int32))
    uv = glb.uv[glb.triangles.ravel()].astype(np.float32)
    uv[:, 1] = 1.0 - uv[:, 1]  # glTF's v runs down the image, Blender's up
    mesh.uv_layers.new(name="UVMap").data.foreach_set("uv", uv.ravel())
    mesh.update(calc_edges=True)
    mesh.validate()
    mesh.polygons.foreach_set("use_smooth", np.ones(m, dtype=bool))
    mesh.materials.append(_material(name, glb.image, glb.image_mime))

    obj = bpy.data.objects.new(name, mesh)
    context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis", from_mix=False)
    ranges = np.asarray(rig["ranges"], dtype=np.float64)
    for k, key_name in enumerate(rig["names"]):
        kb = obj.shape_key_add(name=key_name, from_mix=False)
        kb.data.foreach_set("co", (verts + deltas[k]).astype(np.float32).ravel())
        kb.slider_min, kb.slider_max = float(min(ranges[k, 0], 0.0)), float(max(ranges[k, 1], 0.0))
    for k, key_name in enumerate(rig["blink_names"]):
        kb = obj.shape_key_add(name=key_name, from_mix=False)
        kb.data.foreach_set("co", (verts + blinks[k]).astype(np.float32).ravel())
        kb.slider_min, kb.slider_max = 0.0, 1.0
    obj[FACE_TAG] = 1
    obj[FACE_ID_TAG] = str(rec.get("face_id", ""))
    obj[RIG_TAG] = json.dumps({"names": rig["names"], "scale": rig["scale"], "ranges": rig["ranges"],
                               "blink_names": rig["blink_names"]})  # fmt: skip
    for other in context.view_layer.objects:
        if other is not None:  # 5.0 can list a just-removed object as None until the view layer updates
            other.select_set(False)
    obj.select_set(True)
    context.view_layer.objects.active = obj
    return obj


def _material(name: str, image: bytes, mime: str) -> bpy.types.Material:
    suffix = ".jpg" if "jpeg" in mime else ".png"
    fd, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(image)
        img = bpy.data.images.load(path)
        img.pack()
        img.filepath_raw = img.filepath = f"//{name}_texture{suffix}"
        img.name = f"{name}_texture"
    finally:
        os.unlink(path)
    mat = bpy.data.materials.new(f"{name}_skin")
    mat.use_nodes = True
    nodes = mat.node_tree.nodes
    bsdf = next(n for n in nodes if n.type == "BSDF_PRINCIPLED")
    bsdf.inputs["Roughness"].default_value = 0.8
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = img
    tex.location = (-400, 300)
    mat.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    return mat


def is_parley_face(obj: bpy.types.Object | None) -> bool:
    return bool(obj is not None and obj.type == "MESH" and obj.get(FACE_TAG) and obj.get(RIG_TAG))


def why_not_face(obj: bpy.types.Object | None) -> str:
    """What a person must do before animating this object, or '' when it is a Parley face."""
    if obj is None:
        return "Select a Parley face, or reconstruct one from a photo first"
    if is_parley_face(obj):
        return ""
    if obj.type != "MESH":
        return f"'{obj.name}' is a {obj.type.lower()}, not a mesh: select a Parley face, or reconstruct one"
    return (f"'{obj.name}' is not a Parley face: Parley drives its own EXP_00…EXP_19 and BLINK shape keys, "
            "so reconstruct a face from a photo or video first (Reconstruct Face)")  # fmt: skip


def clear_scene(scene: bpy.types.Scene) -> None:
    """Empty the file for the next batch item, keeping preferences and enabled add-ons (unlike a factory reset)."""
    for coll in (bpy.data.objects, bpy.data.meshes, bpy.data.armatures, bpy.data.actions, bpy.data.materials,
                 bpy.data.images, bpy.data.sounds, bpy.data.cameras, bpy.data.lights):  # fmt: skip
        for item in list(coll):
            coll.remove(item)
    if scene.sequence_editor is not None:  # strip by strip: sequence_editor_clear() has crashed the bpy module
        strips = _strips(scene)
        for strip in list(strips):
            strips.remove(strip)
    for layer in scene.view_layers:
        layer.update()


# ------------------------------------------------------------------------------------------------
# animation
# ------------------------------------------------------------------------------------------------
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


def plan_check(obj: bpy.types.Object | None, target: HeadTarget) -> dict[str, Any]:
    """Check that ``obj`` is a complete Parley face and the head target usable; returns the face's rig.

    Raises:
        SceneError: what is wrong, said so that a person knows what to do.
    """
    why = why_not_face(obj)
    if why or obj is None:
        raise SceneError(why)
    rig: dict[str, Any] = json.loads(obj[RIG_TAG])
    blocks = obj.data.shape_keys.key_blocks if obj.data.shape_keys else {}
    missing = [n for n in (*rig["names"], *rig["blink_names"]) if n not in blocks]
    if missing:
        raise SceneError(f"'{obj.name}' lacks the shape keys {', '.join(missing[:4])}: reconstruct the face again")
    arm = target.armature
    if arm is not None:
        if arm.type != "ARMATURE":
            raise SceneError(f"'{arm.name}' is not an armature")
        if arm.data.bones.get(target.bone) is None:
            raise SceneError(f"the armature '{arm.name}' has no bone '{target.bone}': choose its head bone")
    return rig


def plan(obj: bpy.types.Object, m: mo.Motion, target: HeadTarget) -> Plan:
    """Turn a result into keyframe arrays for ``obj`` (a Parley face).

    Raises:
        SceneError: not a Parley face, shape keys missing, or a bad head target.
    """
    rig = plan_check(obj, target)
    values = mo.key_values(m, np.asarray(rig["scale"]))
    sliders = mo.slider_ranges(values, np.asarray(rig["ranges"]))
    keys = {name: mo.keyframe_coords(values[:, k]) for k, name in enumerate(rig["names"])}
    slider = {name: (float(sliders[k, 0]), float(sliders[k, 1])) for k, name in enumerate(rig["names"])}
    for k, name in enumerate(rig["blink_names"]):
        keys[name] = mo.keyframe_coords(np.clip(m.blink[:, k], 0.0, 1.0))
        slider[name] = (0.0, 1.0)
    head: dict[tuple[str, int], np.ndarray] = {}
    if target.armature is None:
        # on the delta transform: the head moves about wherever the animator put, turned or scaled the face
        euler, loc = mo.object_pose(m.pose)
        for i in range(3):
            head["delta_rotation_euler", i] = mo.keyframe_coords(euler[:, i])
            head["delta_location", i] = mo.keyframe_coords(loc[:, i])
        mode = "XZY"
    else:
        bone = target.armature.data.bones[target.bone]
        rest = np.array([list(r) for r in bone.matrix_local.to_3x3()])
        quat, loc = mo.bone_pose(m.pose, rest)
        base = f'pose.bones["{bpy.utils.escape_identifier(bone.name)}"]'
        for i in range(4):
            head[f"{base}.rotation_quaternion", i] = mo.keyframe_coords(quat[:, i])
        for i in range(3):
            head[f"{base}.location", i] = mo.keyframe_coords(loc[:, i])
        mode = "QUATERNION"
    return Plan(mo.scene_fps(m.fps), m.frames, keys, slider, head, mode)


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


def apply(context: bpy.types.Context, obj: bpy.types.Object, m: mo.Motion, audio: str | None,
          target: HeadTarget | None = None, title: str = "") -> dict[str, Any]:  # fmt: skip
    """Write a result onto a Parley face: shape-key and head actions, scene fps and range, the sound strip.

    A previous Parley animation on the same face (its actions, its sound strip) is replaced.
    Raises SceneError before anything changes when the face or target is unusable.
    """
    target = target or HeadTarget()
    p = plan(obj, m, target)
    scene = context.scene
    title = title or obj.name
    strip_name = ""
    warnings: list[str] = []
    if audio:
        strips = _strips(scene)
        previous = obj.get("parley_strip")
        used = {s.channel for s in strips if s.name != previous}
        channel = next(c for c in range(1, 129) if c not in used)
        try:
            strip = strips.new_sound(name=f"Parley {title}", filepath=audio, channel=channel, frame_start=1)
        except (RuntimeError, TypeError) as exc:
            # a Blender built without audio (the 4.2 bpy module) refuses every sound: the animation is still
            # worth having, and a .glb/.fbx never carries the sound anyway
            why = str(exc).strip().removeprefix("Error: ").strip()
            warnings.append(f"no sound strip: Blender could not add {os.path.basename(audio)} ({why}); "
                            "add the sound in the Video Sequencer to play it in sync")  # fmt: skip
        else:
            if previous and previous in strips and previous != strip.name:
                strips.remove(strips[previous])
            strip_name = strip.name
            obj["parley_strip"] = strip_name
    key = obj.data.shape_keys
    for name, (lo, hi) in p.sliders.items():
        kb = key.key_blocks[name]
        kb.slider_min, kb.slider_max = lo, hi
    shape_curves = {(f'key_blocks["{bpy.utils.escape_identifier(n)}"].value', 0): co for n, co in p.keys.items()}
    _assign(key, _new_action(f"Parley {title} Face", shape_curves, "Parley Face", "KEY"))
    head_action = _new_action(f"Parley {title} Head", p.head, "Parley Head", "OBJECT")
    if target.armature is None:
        obj.rotation_mode = p.rotation_mode
        _assign(obj, head_action)
    else:
        _put_on_armature(target.armature, target.bone, head_action)
    scene.render.fps, scene.render.fps_base = p.fps
    scene.frame_start, scene.frame_end = 1, p.frames
    scene.frame_current = 1
    scene.sync_mode = "AUDIO_SYNC"
    return {"frames": p.frames, "fps": m.fps, "keys": len(p.keys), "head_curves": len(p.head), "strip": strip_name,
            "warnings": warnings}  # fmt: skip


def _put_on_armature(arm: bpy.types.Object, bone: str, action: bpy.types.Action) -> None:
    """The armature's own active action is the animator's: Parley's head motion goes on an NLA track of its own."""
    arm.pose.bones[bone].rotation_mode = "QUATERNION"
    ad = arm.animation_data or arm.animation_data_create()
    if ad.action is None or ad.action.get(OWNED_TAG):
        _assign(arm, action)
        return
    old = ad.nla_tracks.get(NLA_TRACK)
    if old is not None:
        dropped = [s.action for s in old.strips if s.action is not None and s.action.get(OWNED_TAG)]
        ad.nla_tracks.remove(old)
        for a in dropped:
            if a.users == 0:
                bpy.data.actions.remove(a)
    track = ad.nla_tracks.new()
    track.name = NLA_TRACK
    strip = track.strips.new(action.name, 1, action)
    if SLOTTED and strip.action_slot is None and len(action.slots):
        strip.action_slot = action.slots[0]
