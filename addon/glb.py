"""Read the server's face GLB (one mesh, one primitive, one texture) into arrays, no bpy needed.

The add-on builds the Blender mesh from these arrays itself instead of running the glTF importer, so
vertex i stays MediaPipe landmark i — the shape-key deltas are indexed by it.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np

_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
_DTYPES = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}


class GLBError(Exception):
    """Not a face mesh this add-on can read."""


@dataclass
class FaceMesh:
    vertices: np.ndarray  # (N, 3) float32, glTF axes (y up)
    triangles: np.ndarray  # (M, 3) int32
    uv: np.ndarray  # (N, 2) float32, glTF convention (origin top-left)
    image: bytes  # the texture file (PNG or JPEG)
    image_mime: str


def read_glb(data: bytes) -> FaceMesh:
    """Parse a binary glTF holding one textured triangle mesh.

    Raises:
        GLBError: not GLB, or no triangle primitive with positions and a texture.
    """
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
    blob = data[off + 8 : off + 8 + n_bin]

    def view(index: int) -> bytes:
        v = doc["bufferViews"][index]
        start = v.get("byteOffset", 0)
        return blob[start : start + v["byteLength"]]

    def accessor(index: int) -> np.ndarray:
        a = doc["accessors"][index]
        dtype, width = _DTYPES[a["componentType"]], _COMPONENTS[a["type"]]
        raw = view(a["bufferView"])
        start = a.get("byteOffset", 0)
        arr = np.frombuffer(raw, dtype=dtype, count=a["count"] * width, offset=start)
        return arr.reshape(a["count"], width) if width > 1 else arr

    try:
        prim = doc["meshes"][0]["primitives"][0]
        if prim.get("mode", 4) != 4:
            raise GLBError("the face mesh is not made of triangles")
        vertices = accessor(prim["attributes"]["POSITION"]).astype(np.float32)
        uv = accessor(prim["attributes"]["TEXCOORD_0"]).astype(np.float32)
        triangles = accessor(prim["indices"]).reshape(-1, 3).astype(np.int32)
        material = doc["materials"][prim["material"]]
        tex = doc["textures"][material["pbrMetallicRoughness"]["baseColorTexture"]["index"]]
        img = doc["images"][tex["source"]]
        image, mime = view(img["bufferView"]), img.get("mimeType", "image/png")
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise GLBError(f"the face mesh's GLB is missing a part this add-on needs ({exc})") from None
    if len(uv) != len(vertices) or triangles.max(initial=0) >= len(vertices):
        raise GLBError("the face mesh's GLB has inconsistent vertex data")
    return FaceMesh(vertices, triangles, uv, bytes(image), str(mime))
