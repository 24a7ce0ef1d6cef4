"""Write a textured, multi-material head with morph targets as binary glTF (GLB) or OBJ.

trimesh writes neither morph targets nor several materials on one mesh, so the GLB is written here (glTF 2.0:
one mesh, one primitive per material, all sharing the vertex attributes; each ARKit shape a *sparse* morph target,
since most shapes move a few thousand of the 26k vertices; the names in ``mesh.extras.targetNames``, where Blender
and three.js read them). Vertices are split where the UV layout has seams; the attribute ``_VERTEX_ID`` keeps each
split vertex's index in the welded head, so a reader can rebuild the welded mesh (the Blender add-on does).
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.face.head import TexturedHead, vertex_normals
from core.face.shade import LASH_ALPHA

FLOAT, UINT, USHORT = 5126, 5125, 5123
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
#: A shape's vertex counts as moved above this displacement (metres): 1 µm.
MOVED = 1e-6


def split_seams(head: TexturedHead) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vertex id, uv id) pairs each triangle corner uses → (split vertex's welded id (N,), its uv id (N,),
    triangles over split vertices (F, 3))."""
    pairs = np.stack([head.triangles.reshape(-1), head.triangles_uv.reshape(-1)], axis=1).astype(np.int64)
    key = pairs[:, 0] * (int(pairs[:, 1].max()) + 1) + pairs[:, 1]
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return pairs[first, 0], pairs[first, 1], inverse.reshape(-1, 3).astype(np.uint32)


class _Buffer:
    def __init__(self) -> None:
        self.data = bytearray()
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def view(self, raw: bytes, target: int | None = None) -> int:
        while len(self.data) % 4:
            self.data.append(0)
        v: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.data), "byteLength": len(raw)}
        if target is not None:
            v["target"] = target
        self.data.extend(raw)
        self.views.append(v)
        return len(self.views) - 1

    def accessor(self, a: np.ndarray, kind: str, ctype: int, target: int | None = None, bounds: bool = False) -> int:
        acc: dict[str, Any] = {"bufferView": self.view(a.tobytes(), target), "componentType": ctype,
                               "count": len(a), "type": kind}
        if bounds:
            acc["min"] = a.min(0).tolist()
            acc["max"] = a.max(0).tolist()
        self.accessors.append(acc)
        return len(self.accessors) - 1

    def sparse_target(self, delta: np.ndarray) -> int:
        """A morph target's POSITION deltas (N, 3) as a sparse accessor over zeros."""
        moved = np.where(np.abs(delta).max(1) > MOVED)[0].astype(np.uint32)
        acc: dict[str, Any] = {"componentType": FLOAT, "count": len(delta), "type": "VEC3",
                               "min": delta.min(0).tolist(), "max": delta.max(0).tolist()}
        if len(moved):
            values = self.view(delta[moved].astype(np.float32).tobytes())
            acc["sparse"] = {"count": len(moved), "values": {"bufferView": values},
                             "indices": {"bufferView": self.view(moved.tobytes()), "componentType": UINT}}
        self.accessors.append(acc)
        return len(self.accessors) - 1


def _image_bytes(texture: np.ndarray) -> tuple[bytes, str]:
    buf = io.BytesIO()
    Image.fromarray(texture).save(buf, format="JPEG", quality=92)  # 20× faster to write than PNG at this size
    return buf.getvalue(), "image/jpeg"


@dataclass
class Take:
    """Curves to play on the head: ``arkit`` (T, 52) morph weights and ``pose`` (T, 6) — XYZ Euler radians and
    metres, canonical frame, which is glTF's (x right, y up, z to the viewer) — at ``fps``."""

    fps: float
    arkit: np.ndarray
    pose: np.ndarray


def _animation(b: _Buffer, take: Take, targets: int) -> dict[str, Any]:
    """One glTF animation: the mesh's weights and the head node's rotation and translation, a key per frame."""
    from scipy.spatial.transform import Rotation

    t = len(take.arkit)
    if take.arkit.shape != (t, targets) or take.pose.shape != (t, 6) or t == 0 or take.fps <= 0:
        raise ValueError(f"curves {take.arkit.shape} / {take.pose.shape} do not fit a head with {targets} targets")
    times = (np.arange(t) / take.fps).astype(np.float32)
    inp = b.accessor(times, "SCALAR", FLOAT, bounds=True)
    b.accessors[inp]["min"], b.accessors[inp]["max"] = [float(times[0])], [float(times[-1])]
    quat = Rotation.from_euler("xyz", take.pose[:, :3]).as_quat().astype(np.float32)  # x, y, z, w as glTF
    for i in range(1, t):  # one sign per rotation, frame to frame, so the interpolation takes the short way
        if float(quat[i] @ quat[i - 1]) < 0:
            quat[i] = -quat[i]
    outputs = [b.accessor(take.arkit.astype(np.float32).reshape(-1), "SCALAR", FLOAT),
               b.accessor(quat, "VEC4", FLOAT), b.accessor(take.pose[:, 3:].astype(np.float32), "VEC3", FLOAT)]
    paths = ("weights", "rotation", "translation")
    return {"name": "ParleyTake",
            "samplers": [{"input": inp, "output": o, "interpolation": "LINEAR"} for o in outputs],
            "channels": [{"sampler": i, "target": {"node": 0, "path": p}} for i, p in enumerate(paths)]}


def write_glb(head: TexturedHead, path: str | Path, take: Take | None = None) -> Path:
    """The head as GLB: materials, textures, 52 named morph targets; with ``take``, also its animation (morph
    weights and head pose per frame), which Blender's, three.js's and other glTF importers play.

    Raises:
        ValueError: the take's curves do not fit the head.
    """
    path = Path(path)
    welded, uv_id, tris = split_seams(head)
    b = _Buffer()
    pos = head.vertices[welded].astype(np.float32)
    normals = vertex_normals(head.vertices.astype(np.float64), head.triangles)[welded].astype(np.float32)
    uv = head.uv[uv_id].astype(np.float32).copy()
    uv[:, 1] = 1.0 - uv[:, 1]  # glTF's UV origin is top-left
    attributes = {"POSITION": b.accessor(pos, "VEC3", FLOAT, ARRAY_BUFFER, bounds=True),
                  "NORMAL": b.accessor(normals, "VEC3", FLOAT, ARRAY_BUFFER),
                  "TEXCOORD_0": b.accessor(uv, "VEC2", FLOAT, ARRAY_BUFFER),
                  "_VERTEX_ID": b.accessor(welded.astype(np.float32), "SCALAR", FLOAT, ARRAY_BUFFER)}
    targets = [{"POSITION": b.sparse_target(k[welded])} for k in head.shape_keys]
    images, textures, materials = [], [], []
    for m in head.materials:
        pbr: dict[str, Any] = {"baseColorFactor": [*m.colour, 1.0], "metallicFactor": 0.0,
                               "roughnessFactor": m.roughness}
        if m.texture is not None:
            raw, mime = _image_bytes(m.texture)
            images.append({"bufferView": b.view(raw), "mimeType": mime, "name": m.name})
            textures.append({"source": len(images) - 1, "sampler": 0})
            pbr["baseColorTexture"] = {"index": len(textures) - 1}
            pbr["baseColorFactor"] = [1.0, 1.0, 1.0, 1.0]
        mat: dict[str, Any] = {"name": m.name, "pbrMetallicRoughness": pbr, "doubleSided": m.name == "eyelashes"}
        if m.name == "eyelashes":
            pbr["baseColorFactor"][3] = LASH_ALPHA
            mat["alphaMode"] = "BLEND"
        materials.append(mat)
    primitives = []
    for i in range(len(head.materials)):
        sel = tris[head.material == i]
        if len(sel):
            idx = b.accessor(sel.reshape(-1).astype(np.uint32), "SCALAR", UINT, ELEMENT_ARRAY_BUFFER)
            primitives.append({"attributes": attributes, "indices": idx, "material": i, "targets": targets})
    animations = [_animation(b, take, len(targets))] if take is not None else []
    gltf: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "Parley"},
        "scene": 0, "scenes": [{"nodes": [0]}],
        "nodes": [{"name": "ParleyHead", "mesh": 0}],
        "meshes": [{"name": "ParleyHead", "primitives": primitives, "weights": [0.0] * len(targets),
                    "extras": {"targetNames": list(head.shape_key_names)}}],
        "materials": materials, "images": images, "textures": textures,
        "samplers": [{"magFilter": 9729, "minFilter": 9987, "wrapS": 33071, "wrapT": 33071}],
        "accessors": b.accessors, "bufferViews": b.views,
        "buffers": [{"byteLength": len(b.data)}],
        "extras": {"parley": {"vertices_welded": len(head.vertices), "notes": head.notes}},
    }
    if take is not None:
        gltf["animations"] = animations
        gltf["extras"]["parley"]["fps"] = take.fps
    if not textures:
        del gltf["textures"], gltf["images"], gltf["samplers"]
    js = json.dumps(gltf, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    while len(b.data) % 4:
        b.data.append(0)
    out = struct.pack("<III", 0x46546C67, 2, 12 + 8 + len(js) + 8 + len(b.data))
    out += struct.pack("<II", len(js), 0x4E4F534A) + js + struct.pack("<II", len(b.data), 0x004E4942) + bytes(b.data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out)
    return path


def write_obj(head: TexturedHead, path: str | Path) -> Path:
    """The head at rest as OBJ + MTL + textures beside it (OBJ has no shape keys: use GLB or .blend for those)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"mtllib {path.stem}.mtl", "o ParleyHead"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in head.vertices]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in head.uv]
    mtl = []
    for i, m in enumerate(head.materials):
        sel = np.where(head.material == i)[0]
        if not len(sel):
            continue
        lines.append(f"usemtl {m.name}")
        t, tu = head.triangles[sel] + 1, head.triangles_uv[sel] + 1
        lines += [f"f {a}/{ua} {b_}/{ub} {c}/{uc}" for (a, b_, c), (ua, ub, uc) in zip(t, tu, strict=True)]
        mtl += [f"newmtl {m.name}", "Ka 0 0 0", "Kd {:.4f} {:.4f} {:.4f}".format(*m.colour), "Ks 0.05 0.05 0.05"]
        if m.texture is not None:
            tex = f"{path.stem}_{m.name}.jpg"
            Image.fromarray(m.texture).save(path.parent / tex, quality=92)
            mtl += ["Kd 1 1 1", f"map_Kd {tex}"]
    path.write_text("\n".join(lines) + "\n")
    (path.parent / f"{path.stem}.mtl").write_text("\n".join(mtl) + "\n")
    return path
