"""MediaPipe's 468 face-mesh points on the ICT head: which triangle of the ICT face each point lies on, computed once.

    .venv/bin/python scripts/ict_correspondence.py [--ict ../shared/data/ict-facekit/ict_face_model_light.npz]
        [--out core/assets/ict_correspondence.npz] [--png out/ict_correspondence.png]

Steps: (1) a similarity transform takes Parley's canonical face (metres) onto the ICT neutral head (centimetres) on
the 68 Multi-PIE landmarks, whose ICT vertices the ICT-FaceKit README lists and whose MediaPipe points are the usual
68-point subset; (2) a thin-plate spline through those 68 pairs bends the canonical face onto the ICT face's shape;
(3) each bent point is projected onto the nearest triangle of the ICT face area (vertices 0–9408). The file keeps,
per MediaPipe point, the ICT triangle (3 vertex indices) and barycentric weights, so any ICT shape (identity,
expression) gives its 468 points as weights × vertices. The residuals (mm, on the neutral head) are printed and
stored: after the similarity alone (how far the canonical face's shape is from ICT's) and after the bend (how far
the projection moved each point).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

#: The ICT neutral head's vertices of the 68 Multi-PIE landmarks (ICT-FaceKit README, "Facial Landmarks").
ICT_68 = (1225, 1888, 1052, 367, 1719, 1722, 2199, 1447, 966, 3661, 4390, 3927, 3924, 2608, 3272, 4088, 3443, 268,
          493, 1914, 2044, 1401, 3615, 4240, 4114, 2734, 2509, 978, 4527, 4942, 4857, 1140, 2075, 1147, 4269, 3360,
          1507, 1542, 1537, 1528, 1518, 1511, 3742, 3751, 3756, 3721, 3725, 3732, 5708, 5695, 2081, 0, 4275, 6200,
          6213, 6346, 6461, 5518, 5957, 5841, 5702, 5711, 5533, 6216, 6207, 6470, 5517, 5966)
#: The same 68 landmarks among MediaPipe's face-mesh points (jaw, brows, nose, eyes, outer and inner lips).
MP_68 = (127, 234, 93, 132, 58, 172, 136, 150, 152, 377, 365, 397, 288, 361, 323, 454, 356,
         70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
         168, 197, 5, 4, 75, 97, 2, 326, 305,
         33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
         61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
         78, 82, 13, 312, 308, 317, 14, 87)
FACE_VERTICES = 9409


def tps(src: np.ndarray, dst: np.ndarray, pts: np.ndarray, reg: float = 1e-3) -> np.ndarray:
    """Thin-plate spline (kernel r) taking ``src`` onto ``dst``, applied to ``pts``."""
    n = len(src)
    k = np.linalg.norm(src[:, None] - src[None], axis=-1)
    p = np.hstack([np.ones((n, 1)), src])
    a = np.zeros((n + 4, n + 4))
    a[:n, :n] = k + reg * np.eye(n)
    a[:n, n:], a[n:, :n] = p, p.T
    coef = np.linalg.solve(a, np.vstack([dst, np.zeros((4, 3))]))
    kq = np.linalg.norm(pts[:, None] - src[None], axis=-1)
    return kq @ coef[:n] + np.hstack([np.ones((len(pts), 1)), pts]) @ coef[n:]


def closest_on_triangles(p: np.ndarray, tri: np.ndarray) -> tuple[int, np.ndarray, float]:
    """The triangle (index into ``tri`` (M, 3, 3)) nearest to point ``p``, the barycentric weights, the distance."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    ab, ac, ap = b - a, c - a, p - a
    d00, d01, d11 = (ab * ab).sum(1), (ab * ac).sum(1), (ac * ac).sum(1)
    d20, d21 = (ap * ab).sum(1), (ap * ac).sum(1)
    den = np.maximum(d00 * d11 - d01 * d01, 1e-18)
    v = (d11 * d20 - d01 * d21) / den
    w = (d00 * d21 - d01 * d20) / den
    bary = np.stack([1 - v - w, v, w], 1).clip(0, None)
    bary /= bary.sum(1, keepdims=True)  # clamped into the triangle (approximate for points outside)
    q = (bary[:, :, None] * tri).sum(1)
    dist = np.linalg.norm(q - p, axis=1)
    i = int(np.argmin(dist))
    return i, bary[i], float(dist[i])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ict", default=str(REPO.parent / "shared" / "data" / "ict-facekit" / "ict_face_model_light.npz"))
    ap.add_argument("--out", default=str(REPO / "core" / "assets" / "ict_correspondence.npz"))
    ap.add_argument("--png", default=str(REPO / "out" / "ict_correspondence.png"))
    args = ap.parse_args()
    from core.face.canonical import canonical_face
    from core.face.geometry import fit_similarity

    with np.load(args.ict, allow_pickle=False) as z:
        neutral = z["neutral"].astype(np.float64)  # cm
        quads = z["faces_v"]
    can = canonical_face().astype(np.float64) * 100.0  # m → cm
    # the 17 jaw-line landmarks are a 2D silhouette in Multi-PIE's markup, not fixed points of the skin: they sit on
    # the cheek's side in ICT's 3D head and on its front in MediaPipe's, so only the inner 51 anchor anything
    mp, ict = list(MP_68[17:]), list(ICT_68[17:])
    sim = fit_similarity(neutral[ict][None], can[mp], points=None)  # ICT ≈ s R canonical + t
    s = float(sim.scale[0])
    aligned = sim.apply(can[None])[0]
    anchor_err = np.linalg.norm(aligned[mp] - neutral[ict], axis=1) * 10  # mm
    bent = tps(aligned[mp], neutral[ict], aligned)
    face = quads[(quads[:, :3] < FACE_VERTICES).all(1) & ((quads[:, 3] < 0) | (quads[:, 3] < FACE_VERTICES))]
    tris = np.concatenate([face[:, [0, 1, 2]], face[face[:, 3] >= 0][:, [0, 2, 3]]])
    tri_xyz = neutral[tris]
    out_tri = np.zeros((468, 3), np.int32)
    out_w = np.zeros((468, 3), np.float32)
    moved = np.zeros(468)
    for i, p in enumerate(bent):
        k, w, d = closest_on_triangles(p, tri_xyz)
        out_tri[i], out_w[i], moved[i] = tris[k], w, d * 10
    on_ict = (out_w[:, :, None] * neutral[out_tri]).sum(1)
    shape_gap = np.linalg.norm(aligned - on_ict, axis=1) * 10
    np.savez(args.out, triangles=out_tri, weights=out_w, residual_mm=moved.astype(np.float32),
             similarity_gap_mm=shape_gap.astype(np.float32))
    print(f"similarity on the 51 inner landmarks: scale {s:.2f} cm/cm, landmark error median "
          f"{np.median(anchor_err):.1f} mm (p90 {np.percentile(anchor_err, 90):.1f})")
    print(f"468 points: canonical face vs ICT surface after the similarity: median {np.median(shape_gap):.1f} mm, "
          f"p90 {np.percentile(shape_gap, 90):.1f}, max {shape_gap.max():.1f}")
    print(f"after the bend, projection onto the ICT face: median {np.median(moved):.2f} mm, p90 "
          f"{np.percentile(moved, 90):.2f}, max {moved.max():.2f}")
    print(f"→ {args.out}")
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 6))
        fv = neutral[:FACE_VERTICES]
        for ax, (i, j), name in zip(axes, ((0, 1), (2, 1)), ("front (x, y)", "side (z, y)"), strict=True):
            ax.scatter(fv[::4, i], fv[::4, j], s=0.3, c="0.75")
            ax.scatter(on_ict[:, i], on_ict[:, j], s=4, c="tab:red", label="MediaPipe points on ICT")
            ax.scatter(neutral[list(ICT_68), i], neutral[list(ICT_68), j], s=10, c="tab:blue", marker="x",
                       label="ICT 68 landmarks")
            ax.set_aspect("equal")
            ax.set_title(name)
        axes[0].legend(loc="lower left", fontsize=8)
        Path(args.png).parent.mkdir(parents=True, exist_ok=True)
        fig.tight_layout()
        fig.savefig(args.png, dpi=110)
        print(f"→ {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
