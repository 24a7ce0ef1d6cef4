"""Blender data: the Parley face object — mesh, materials, Basis and the ARKit shape keys — and how to tell one
(main thread only). Everything that can fail is read and checked before the first datablock is made."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

import bpy
import numpy as np

from . import motion as mo
from .arkit import ARKIT_NAMES, match_rig
from .glb import MaterialSpec, read_head

FACE_TAG = "parley_face"
RIG_TAG = "parley_rig"
FACE_ID_TAG = "parley_face_id"  # the server's id of the reconstructed face: Animate need not upload it again
OWNED_TAG = "parley_owned"  # on actions and tracks Parley made, so a re-run knows what it may replace
NLA_TRACK = "Parley Head"
NLA_FACE_TRACK = "Parley Face"


class SceneError(Exception):
    """Something about the Blender scene stops Parley (a mesh that is not a Parley face, a missing bone)."""


def build_face(context: bpy.types.Context, name: str, rec: dict[str, Any]) -> bpy.types.Object:
    """The textured head object of a reconstruct result: materials, Basis and the ARKit shape keys; linked, selected.

    Everything is read and checked before the first datablock is made.
    """
    head = read_head(rec["mesh"])
    rig = rec.get("rig") or {}
    if rig.get("kind") != "arkit" or list(rig.get("names", [])) != head.key_names:
        raise SceneError("the server's head does not carry the ARKit shape keys this add-on drives: update Parley")
    verts = mo.to_blender_points(head.vertices).astype(np.float32)
    deltas = mo.to_blender_points(head.key_deltas).astype(np.float32)

    mesh = bpy.data.meshes.new(name)
    n, m = len(verts), len(head.triangles)
    mesh.vertices.add(n)
    mesh.vertices.foreach_set("co", verts.ravel())
    mesh.loops.add(3 * m)
    mesh.loops.foreach_set("vertex_index", head.triangles.ravel())
    mesh.polygons.add(m)
    mesh.polygons.foreach_set("loop_start", np.arange(0, 3 * m, 3, dtype=np.int32))
    mesh.polygons.foreach_set("loop_total", np.full(m, 3, dtype=np.int32))
    uv = head.loop_uv.reshape(-1, 2).astype(np.float32).copy()
    uv[:, 1] = 1.0 - uv[:, 1]  # glTF's v runs down the image, Blender's up
    mesh.uv_layers.new(name="UVMap").data.foreach_set("uv", uv.ravel())
    mesh.update(calc_edges=True)
    mesh.validate()
    mesh.polygons.foreach_set("use_smooth", np.ones(m, dtype=bool))
    for spec in head.materials:
        mesh.materials.append(_material(name, spec))
    mesh.polygons.foreach_set("material_index", head.material.astype(np.int32))

    obj = bpy.data.objects.new(name, mesh)
    context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis", from_mix=False)
    for k, key_name in enumerate(head.key_names):
        kb = obj.shape_key_add(name=key_name, from_mix=False)
        kb.data.foreach_set("co", (verts + deltas[k]).ravel())
        kb.slider_min, kb.slider_max = 0.0, 1.0
    obj[FACE_TAG] = 1
    obj[FACE_ID_TAG] = str(rec.get("face_id", ""))
    obj[RIG_TAG] = json.dumps({"kind": "arkit", "names": head.key_names})
    for other in context.view_layer.objects:
        if other is not None:  # 5.0 can list a just-removed object as None until the view layer updates
            other.select_set(False)
    obj.select_set(True)
    context.view_layer.objects.active = obj
    return obj


def _material(name: str, spec: MaterialSpec) -> bpy.types.Material:
    mat = bpy.data.materials.new(f"{name}_{spec.name}")
    mat.use_nodes = True
    nodes = mat.node_tree.nodes
    bsdf = next(n for n in nodes if n.type == "BSDF_PRINCIPLED")
    bsdf.inputs["Roughness"].default_value = spec.roughness
    bsdf.inputs["Base Color"].default_value = (*spec.colour, 1.0)
    mat.diffuse_color = (*spec.colour, 1.0)  # what the Solid view shows
    if spec.alpha < 1.0:  # the lash cards: a see-through row of hairs
        bsdf.inputs["Alpha"].default_value = spec.alpha
        if hasattr(mat, "surface_render_method"):  # 4.2+ (EEVEE Next)
            mat.surface_render_method = "BLENDED"
    if spec.image is None:
        return mat
    suffix = ".jpg" if "jpeg" in spec.image_mime else ".png"
    fd, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(spec.image)
        img = bpy.data.images.load(path)
        img.pack()
        img.filepath_raw = img.filepath = f"//{name}_{spec.name}{suffix}"
        img.name = f"{name}_{spec.name}"
    finally:
        os.unlink(path)
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = img
    tex.location = (-400, 300)
    mat.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    return mat


def is_parley_face(obj: bpy.types.Object | None) -> bool:
    return bool(obj is not None and obj.type == "MESH" and obj.get(FACE_TAG) and obj.get(RIG_TAG))


def arkit_keys(obj: bpy.types.Object | None) -> tuple[dict[str, str], list[str]]:
    """The ARKit shapes a mesh's shape keys name (ARKit name → key name) and those it lacks."""
    keys = obj.data.shape_keys.key_blocks if obj is not None and obj.type == "MESH" and obj.data.shape_keys else []
    return match_rig(ARKIT_NAMES, [k.name for k in keys])


def why_not_face(obj: bpy.types.Object | None) -> str:
    """What a person must do before animating this object, or '' when Parley can drive it (a Parley head, a face
    of an earlier Parley, or any mesh with ARKit-named shape keys)."""
    if obj is None:
        return "Select a Parley face or a mesh with ARKit shape keys, or reconstruct a face from a photo first"
    if is_parley_face(obj):
        return ""
    if obj.type != "MESH":
        return f"'{obj.name}' is a {obj.type.lower()}, not a mesh: select the face mesh of your rig, or reconstruct one"
    if arkit_keys(obj)[0]:
        return ""
    return (f"'{obj.name}' is not a Parley face and has no ARKit-named shape keys (jawOpen, eyeBlinkLeft, …): "
            "reconstruct a face from a photo (Reconstruct Face), or select a mesh with ARKit shape keys")
