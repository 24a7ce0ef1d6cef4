"""Read the server's head GLB into arrays, no bpy needed.

The add-on builds the Blender mesh from these arrays itself instead of running the glTF importer: the server's GLB
splits vertices at UV seams (glTF has one UV per vertex) and keeps each split vertex's welded index in the custom
attribute ``_VERTEX_ID``, so the mesh is rebuilt welded — smooth across seams, one vertex per point of the head, as
an animator expects to sculpt or weight it. Several primitives (one per material) share the vertex attributes; the
ARKit shapes are morph targets (sparse accessors), named in ``mesh.extras.targetNames``.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np

_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
_DTYPES = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}


class GLBError(Exception):
    """Not a head mesh this add-on can read."""


@dataclass
class MaterialSpec:
    name: str
    colour: tuple[float, float, float]
    roughness: float
    alpha: float = 1.0
    image: bytes | None = None  # the texture file (PNG or JPEG)
    image_mime: str = ""


@dataclass
class HeadMesh:
    vertices: np.ndarray  # (N, 3) float32, glTF axes (y up), welded
    triangles: np.ndarray  # (M, 3) int32 into vertices
    loop_uv: np.ndarray  # (M, 3, 2) float32 per triangle corner, glTF convention (origin top-left)
    material: np.ndarray  # (M,) int32 index into materials
    materials: list[MaterialSpec]
    key_names: list[str] = field(default_factory=list)
    key_deltas: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3), np.float32))  # (K, N, 3)


def _chunks(data: bytes) -> tuple[dict, bytes]:  # type: ignore[type-arg]
    if len(data) < 20 or data[:4] != b"glTF":
        raise GLBError("the face mesh is not a binary glTF file")
    n_json, kind = struct.unpack_from("<I4s", data, 12)
    if kind != b"JSON":
        raise GLBError("the face mesh's GLB has no JSON chunk first")
    doc = json.loads(data[20 : 20 + n_json])
    off = 20 + n_json
    n_bin, kind = struct.unpack_from("<I4s", data, off) if off + 8 <= len(data) else (0, b"")
    if kind != b"BIN\x00":
        raise GLBError("the face mesh's GLB has no binary chunk")
    return doc, data[off + 8 : off + 8 + n_bin]


def read_head(data: bytes) -> HeadMesh:
    """Parse a binary glTF holding one mesh (one primitive per material, triangles, optional morph targets).

    Raises:
        GLBError: not GLB, or parts this add-on needs are missing or inconsistent.
    """
    doc, blob = _chunks(data)

    def view(index: int) -> bytes:
        v = doc["bufferViews"][index]
        start = v.get("byteOffset", 0)
        return blob[start : start + v["byteLength"]]

    def accessor(index: int) -> np.ndarray:
        a = doc["accessors"][index]
        dtype, width = _DTYPES[a["componentType"]], _COMPONENTS[a["type"]]
        if "bufferView" in a:
            arr = np.frombuffer(view(a["bufferView"]), dtype=dtype, count=a["count"] * width,
                                offset=a.get("byteOffset", 0)).reshape(a["count"], width).copy()
        else:
            arr = np.zeros((a["count"], width), dtype)
        sparse = a.get("sparse")
        if sparse:
            ind = sparse["indices"]
            idx = np.frombuffer(view(ind["bufferView"]), dtype=_DTYPES[ind["componentType"]], count=sparse["count"],
                                offset=ind.get("byteOffset", 0))
            vals = np.frombuffer(view(sparse["values"]["bufferView"]), dtype=dtype, count=sparse["count"] * width,
                                 offset=sparse["values"].get("byteOffset", 0)).reshape(-1, width)
            arr[idx.astype(np.int64)] = vals
        return arr if width > 1 else arr[:, 0]

    try:
        mesh = doc["meshes"][0]
        prims = mesh["primitives"]
        first = prims[0]["attributes"]
        positions = accessor(first["POSITION"]).astype(np.float32)
        uv = accessor(first["TEXCOORD_0"]).astype(np.float32)
        welded = (accessor(first["_VERTEX_ID"]).astype(np.int64) if "_VERTEX_ID" in first
                  else np.arange(len(positions)))
        n = int(welded.max()) + 1 if len(welded) else 0
        vertices = np.zeros((n, 3), np.float32)
        vertices[welded] = positions
        tris: list[np.ndarray] = []
        loop_uv: list[np.ndarray] = []
        mats: list[np.ndarray] = []
        for p in prims:
            if p.get("mode", 4) != 4:
                raise GLBError("the face mesh is not made of triangles")
            if p["attributes"] != first:
                raise GLBError("the face mesh's primitives do not share their vertices")
            t = accessor(p["indices"]).astype(np.int64).reshape(-1, 3)
            tris.append(welded[t])
            loop_uv.append(uv[t])
            mats.append(np.full(len(t), len(mats), np.int32))
        materials = [_material(doc, view, p.get("material")) for p in prims]
        names = list(mesh.get("extras", {}).get("targetNames", []))
        targets = prims[0].get("targets", [])
        deltas = np.zeros((len(targets), n, 3), np.float32)
        for k, tgt in enumerate(targets):
            deltas[k, welded] = accessor(tgt["POSITION"])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise GLBError(f"the face mesh's GLB is missing a part this add-on needs ({exc})") from None
    triangles = np.concatenate(tris).astype(np.int32)
    if len(uv) != len(positions) or triangles.max(initial=0) >= n or len(names) != len(deltas):
        raise GLBError("the face mesh's GLB has inconsistent vertex data")
    return HeadMesh(vertices, triangles, np.concatenate(loop_uv), np.concatenate(mats), materials, names, deltas)


def _material(doc: dict, view, index: int | None) -> MaterialSpec:  # type: ignore[no-untyped-def, type-arg]
    if index is None:
        return MaterialSpec("parley", (0.8, 0.8, 0.8), 0.7)
    m = doc["materials"][index]
    pbr = m.get("pbrMetallicRoughness", {})
    r, g, b, a = pbr.get("baseColorFactor", [0.8, 0.8, 0.8, 1.0])
    alpha = float(a) if m.get("alphaMode") == "BLEND" else 1.0
    spec = MaterialSpec(m.get("name", f"material_{index}"), (r, g, b), float(pbr.get("roughnessFactor", 0.7)), alpha)
    tex = pbr.get("baseColorTexture")
    if tex is not None:
        img = doc["images"][doc["textures"][tex["index"]]["source"]]
        spec.image, spec.image_mime = bytes(view(img["bufferView"])), str(img.get("mimeType", "image/png"))
    return spec
