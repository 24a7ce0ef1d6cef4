"""MediaPipe face-mesh triangles, recovered from the tessellation edges that the wheel ships."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np


def triangles_from_edges(edges: set[tuple[int, int]] | frozenset[tuple[int, int]], n_vertices: int) -> np.ndarray:
    """All 3-cycles of an edge graph whose edges each bound at most two of them (M, 3)."""
    nbrs: list[set[int]] = [set() for _ in range(n_vertices)]
    for a, b in edges:
        nbrs[a].add(b)
        nbrs[b].add(a)
    tris = set()
    for a in range(n_vertices):
        for b in nbrs[a]:
            if b <= a:
                continue
            for c in nbrs[a] & nbrs[b]:
                if c > b:
                    tris.add((a, b, c))
    return np.array(sorted(tris), dtype=np.int32)


def drop_enclosing(tris: np.ndarray, shape2d: np.ndarray) -> np.ndarray:
    """Remove 3-cycles that are not faces: on an edge bounding three cycles, the one enclosing a vertex."""
    count: dict[tuple[int, int], int] = {}
    for t in tris:
        for e in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2])):
            count[e] = count.get(e, 0) + 1
    keep = np.ones(len(tris), dtype=bool)
    for i, t in enumerate(tris):
        if all(count[e] < 3 for e in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2]))):
            continue
        a, b, c = shape2d[t]
        others = np.delete(shape2d, t, axis=0)
        d1 = np.cross(b - a, others - a)
        d2 = np.cross(c - b, others - b)
        d3 = np.cross(a - c, others - c)
        inside = ((d1 > 0) & (d2 > 0) & (d3 > 0)) | ((d1 < 0) & (d2 < 0) & (d3 < 0))
        keep[i] = not inside.any()
    return tris[keep]


def orient_towards(tris: np.ndarray, shape: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Flip triangles so their normals point along ``direction`` on the given (N, 3) shape."""
    v0, v1, v2 = shape[tris[:, 0]], shape[tris[:, 1]], shape[tris[:, 2]]
    normal = np.cross(v1 - v0, v2 - v0)
    flip = normal @ direction < 0
    out = tris.copy()
    out[flip] = out[flip][:, [0, 2, 1]]
    return out


#: ``compute_face_triangles()``'s answer, shipped (``scripts/make_face_triangles.py``; a test recomputes it): the
#: computation needs trimesh and MediaPipe's tables, over half a second of every start with a face.
FACE_TRIANGLES = Path(__file__).resolve().parents[1] / "assets" / "face_triangles.npy"


@lru_cache(maxsize=1)
def face_triangles() -> np.ndarray:
    """Triangles of the 468-point face mesh (M, 3) int32, wound counter-clockwise seen from the front."""
    if FACE_TRIANGLES.is_file():
        return np.load(FACE_TRIANGLES, allow_pickle=False).astype(np.int32)
    return compute_face_triangles()


def compute_face_triangles() -> np.ndarray:
    """MediaPipe's tesselation edges → triangles on the canonical face, enclosing ones dropped, wound consistently."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    from core.face.canonical import canonical_face

    shape = canonical_face()
    import trimesh

    tris = drop_enclosing(triangles_from_edges(FACEMESH_TESSELATION, 468), shape[:, :2])
    tris = orient_towards(tris, shape, np.array([0.0, 0.0, 1.0]))
    mesh = trimesh.Trimesh(shape, tris, process=False)
    trimesh.repair.fix_winding(mesh)  # the few side triangles seen edge-on follow their neighbours
    out = np.asarray(mesh.faces, dtype=np.int32)
    if mesh.face_normals[:, 2].mean() < 0:
        out = out[:, [0, 2, 1]]
    return out
