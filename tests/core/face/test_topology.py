from __future__ import annotations

import numpy as np
import trimesh
from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

from core.face.canonical import canonical_face
from core.face.topology import face_triangles


def test_triangles_use_mediapipe_edges_only() -> None:
    tris = face_triangles()
    edges = {tuple(sorted(e)) for e in FACEMESH_TESSELATION}
    for a, b, c in tris:
        for e in ((a, b), (b, c), (a, c)):
            assert tuple(sorted(e)) in edges


def test_mesh_is_a_disc_with_eye_and_mouth_holes() -> None:
    mesh = trimesh.Trimesh(canonical_face(), face_triangles(), process=False)
    assert len(mesh.faces) == 852
    assert mesh.euler_number == 1 - 3  # a disc with three holes
    assert mesh.is_winding_consistent
    assert (mesh.face_normals[:, 2] > 0).mean() > 0.95  # facing the camera


def test_the_shipped_triangles_are_the_computed_ones() -> None:
    """``face_triangles.npy`` (shipped so a start needs no trimesh) is what the computation gives today."""
    from core.face.topology import FACE_TRIANGLES, compute_face_triangles, face_triangles

    assert FACE_TRIANGLES.is_file()
    assert np.array_equal(face_triangles(), compute_face_triangles())
