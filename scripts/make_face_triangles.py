"""Write ``core/assets/face_triangles.npy``: the 468-point face mesh's triangles (``compute_face_triangles``), shipped
so that a start with a face needs neither trimesh nor MediaPipe's tables for them.

    .venv/bin/python scripts/make_face_triangles.py
"""

from __future__ import annotations

import numpy as np

from core.face.topology import FACE_TRIANGLES, compute_face_triangles


def main() -> int:
    tris = compute_face_triangles()
    np.save(FACE_TRIANGLES, tris.astype(np.int32))
    print(f"{FACE_TRIANGLES}: {len(tris)} triangles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
