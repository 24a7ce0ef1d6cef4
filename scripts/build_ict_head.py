"""Build Parley's head asset (``core/assets/ict_head.npz``) from the ICT Face Model Light in the shared folder.

    .venv/bin/python scripts/build_ict_head.py [--ict ../shared/data/ict-facekit/ict_face_model_light.npz]
        [--modes 60] [--out core/assets/ict_head.npz]

What it keeps (ICT-FaceKit README's geometry table): face, head and neck, mouth socket, eye sockets, gums and tongue,
teeth, eyeballs, eyelashes. It drops the lacrimal-fluid, eye-blend and eye-occlusion meshes, which are helpers for
Unreal's eye shaders and render as grey films anywhere else. Quads are split into triangles.

What it stores: the neutral head (centimetres, float32); triangles with their UV indices and a part id (the
material); the first ``--modes`` identity modes (int8 with one scale per mode, a step under 0.1 mm; the count
chosen by ``scripts/ict_fit_error.py``); the 52 ARKit shapes (float16) in Apple's order: the kit's 53 shapes with
browInnerUp_L/R and cheekPuff_L/R summed into one key each, a tongueOut shape made here (the tongue pushed 2 cm
forward, fading to nothing at its root and at the gums), and the eyeball's 25° turn added to each eyeLook shape
(the kit's move only the lids); and the face tile's texel → triangle map, so that a
reconstruction need not rasterise it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ICT = REPO.parent / "shared" / "data" / "ict-facekit" / "ict_face_model_light.npz"

#: (part name, first vertex, last vertex, first polygon, last polygon) — the kit README's table, the kept parts.
PARTS = (
    ("face", 0, 9408, 0, 9229),
    ("head", 9409, 11247, 9230, 11143),
    ("mouth_socket", 11248, 13293, 11144, 13225),
    ("eye_socket", 13294, 14061, 13226, 14033),
    ("gums_tongue", 14062, 17038, 14034, 17005),
    ("teeth", 17039, 21450, 17006, 21495),
    ("sclera", 21451, 22220, 21496, 22295),
    ("iris", 22221, 23020, 22296, 23093),
    ("sclera", 23021, 23790, 23094, 23893),
    ("iris", 23791, 24590, 23894, 24691),
    ("eyelashes", 25351, 26718, 25304, 26383),
)
PART_NAMES = ("face", "head", "mouth_socket", "eye_socket", "gums_tongue", "teeth", "sclera", "iris", "eyelashes")


def tongue_out(neutral: np.ndarray) -> np.ndarray:
    """A tongue-forward shape (26719, 3) cm: the tongue's top inside the lower arch moves 2 cm out of the mouth."""
    delta = np.zeros_like(neutral)
    g = np.arange(14062, 17039)
    x, y, z = neutral[g].T
    across = np.clip((1.7 - np.abs(x)) / 0.7, 0.0, 1.0)  # fades out towards the gums at the sides
    along = np.clip((z - 2.0) / 4.0, 0.0, 1.0)  # fades in from the root at the throat
    below = np.clip((-2.6 - y) / 0.6, 0.0, 1.0)  # the lower jaw only, not the palate
    w = (across * along * below) ** 1.5
    delta[g, 2] = 2.0 * w
    delta[g, 1] = -0.35 * w
    return delta


#: The eyeball turn at an eyeLook weight of 1 (degrees): the kit's eyeLook shapes move only the lids.
GAZE_FULL_DEG = 25.0
EYEBALLS = {"Left": (21451, 23020), "Right": (23021, 24590)}


def eye_turn(neutral: np.ndarray, side: str, direction: str) -> np.ndarray:
    """The eyeball's displacement (26719, 3) cm when it turns ``GAZE_FULL_DEG`` towards ``direction``
    (Up, Down, In: towards the nose, Out), linearised as a shape key: R p − p about the eyeball's centre."""
    delta = np.zeros_like(neutral)
    v0, v1 = EYEBALLS[side]
    pts = neutral[v0 : v1 + 1].astype(np.float64)
    centre = (pts.min(0) + pts.max(0)) / 2
    a = np.radians(GAZE_FULL_DEG)
    outward = 1.0 if side == "Left" else -1.0  # +x is the subject's left
    if direction in ("Up", "Down"):
        ang = a if direction == "Up" else -a  # the front (+z) moves up (+y): rotation about −x
        rot = np.array([[1, 0, 0], [0, np.cos(ang), np.sin(ang)], [0, -np.sin(ang), np.cos(ang)]])
    else:
        ang = a * (outward if direction == "Out" else -outward)  # the front moves towards +x for ang > 0
        rot = np.array([[np.cos(ang), 0, np.sin(ang)], [0, 1, 0], [-np.sin(ang), 0, np.cos(ang)]])
    delta[v0 : v1 + 1] = (pts - centre) @ rot.T + centre - pts
    return delta.astype(np.float32)


def arkit_shapes(names: list[str], shapes: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """The kit's 53 shapes → ARKit's 52 in Apple's order."""
    from core.face.arkit import ARKIT_NAMES

    by = {n: shapes[i] for i, n in enumerate(names)}
    out = []
    for a in ARKIT_NAMES:
        if a == "tongueOut":
            out.append(tongue_out(neutral))
        elif a in ("browInnerUp", "cheekPuff"):
            out.append(by[f"{a}_L"] + by[f"{a}_R"])
        elif a.startswith("eyeLook"):  # the kit's lids plus the eyeball's turn
            side = "Left" if a.endswith("Left") else "Right"
            direction = a[len("eyeLook") : -len(side)]
            out.append(by[f"{a[: -len(side)]}_{side[0]}"] + eye_turn(neutral, side, direction))
        elif a in by:  # jawLeft, mouthRight: a direction, not a side
            out.append(by[a])
        elif a.endswith("Left"):
            out.append(by[f"{a[:-4]}_L"])
        else:
            out.append(by[f"{a[:-5]}_R"])
    return np.stack(out).astype(np.float32)


def triangles(quads: np.ndarray) -> np.ndarray:
    """(F, 4) quads with −1 for triangles → (M, 3), each quad split along its 0–2 diagonal."""
    tri = quads[:, [0, 1, 2]]
    quad = quads[:, 3] >= 0
    return np.concatenate([tri, quads[quad][:, [0, 2, 3]]])


def face_texel_map(tri_v: np.ndarray, tri_uv: np.ndarray, uv: np.ndarray, part: np.ndarray) -> np.ndarray:
    """(1024, 1024) int16: which face triangle (counted within the face part) covers each face-tile texel, −1 none."""
    from core.face.head import TILE
    from core.face.raster import rasterize

    face = np.where(part == PART_NAMES.index("face"))[0]
    t = uv[tri_uv[face]].astype(np.float64)
    xy = np.stack([t[..., 0] * TILE, (1.0 - t[..., 1]) * TILE], axis=-1)
    assert len(face) < 2**15
    return rasterize(xy, TILE, TILE).triangle.astype(np.int16)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ict", default=str(ICT))
    ap.add_argument("--modes", type=int, default=60)
    ap.add_argument("--out", default=str(REPO / "core" / "assets" / "ict_head.npz"))
    args = ap.parse_args()
    with np.load(args.ict) as z:
        neutral = z["neutral"].astype(np.float32)
        faces_v, faces_uv, uv = z["faces_v"], z["faces_uv"], z["uv"]
        identity = z["identity"][: args.modes]
        shapes = arkit_shapes([str(n) for n in z["expression_names"]], z["expression"], neutral)
    keep = np.concatenate([np.arange(v0, v1 + 1) for _, v0, v1, _, _ in PARTS])
    remap = np.full(len(neutral), -1, np.int64)
    remap[keep] = np.arange(len(keep))
    tv, tu, part = [], [], []
    for name, _, _, f0, f1 in PARTS:
        qv, qu = faces_v[f0 : f1 + 1], faces_uv[f0 : f1 + 1]
        tv.append(triangles(qv))
        tu.append(triangles(qu))
        part.append(np.full(len(tv[-1]), PART_NAMES.index(name), np.int8))
    tri_v = remap[np.concatenate(tv)]
    assert (tri_v >= 0).all(), "a kept polygon uses a dropped vertex"
    used_uv = np.unique(np.concatenate(tu))
    uv_remap = np.full(len(uv), -1, np.int64)
    uv_remap[used_uv] = np.arange(len(used_uv))
    modes = identity[:, keep].astype(np.float32)
    scale = np.abs(modes).max(axis=(1, 2)) / 127.0  # int8 per mode: a step of ≤ 0.1 mm, well under the fit error
    quantised = np.round(modes / scale[:, None, None]).astype(np.int8)
    out = Path(args.out)
    texels = face_texel_map(tri_v, uv_remap[np.concatenate(tu)], uv[used_uv], np.concatenate(part))
    np.savez_compressed(
        out,
        neutral=neutral[keep],
        triangles=tri_v.astype(np.int32),
        triangles_uv=uv_remap[np.concatenate(tu)].astype(np.int32),
        uv=uv[used_uv].astype(np.float32),
        part=np.concatenate(part),
        part_names=np.array(PART_NAMES),
        source_vertex=keep.astype(np.int32),
        identity=quantised,
        identity_scale=scale.astype(np.float32),
        arkit=shapes[:, keep].astype(np.float16),
        face_texels=texels,
        provenance=np.str_(json.dumps({"source": "ICT Face Model Light (MIT), ict_face_model_light.npz",
                                       "script": "scripts/build_ict_head.py", "modes": args.modes})),
    )
    print(f"{out}: {len(keep)} vertices, {len(tri_v)} triangles, {len(identity)} identity modes, "
          f"{out.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
