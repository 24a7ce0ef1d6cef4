"""Photo → textured head timing (median of N runs, warm process), with the stages apart, and the cold first run.

    .venv/bin/python benchmarks/bench_reconstruct.py [--runs 7] [--photo PATH] [--faces-from ../shared/data]

Goal (issue 12): ≤ 1 s per photo on this 2-core CPU, the GLB written (issue 22: ≤ 1.5 s with the hair). The first
photo in a process also pays for loading the head asset and the face tile's texel map (printed apart as "one-time").

Hair (issue 22), with ``--faces-from`` (frame 20 of each GRID speaker's first clip and of each dev-av clip): the
front view's scalp above the forehead — where the ICT head's vertices above the face oval's top and in front of
the skull's middle land in ``turnaround``'s front view — and the share of its pixels within CIELAB dE 15 of the
photo's hair colour (``core.face.hair_mask.segment_hair``), for the people whose hair is found; beside it the same
head made ``with_hair=False`` (the bald head every photo got before).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from core.face.head import TexturedHead

os.environ.setdefault("GLOG_minloglevel", "2")


def main() -> None:
    from core.cli import DEMO_FACE

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--photo", default=str(DEMO_FACE))
    ap.add_argument("--faces-from", help="a data folder with grid/ and dev-av/: also the hair and face tables")
    ap.add_argument("--tables", nargs="*", default=["hair", "face"], choices=["hair", "face"])
    args = ap.parse_args()
    if args.runs > 0:
        timing(args.photo, args.runs)
    if args.faces_from and "hair" in args.tables:
        hair_table(Path(args.faces_from))
    if args.faces_from and "face" in args.tables:
        face_table(Path(args.faces_from))


def timing(photo: str, runs: int) -> None:

    t0 = time.perf_counter()
    from core.face.canonical import canonical_face
    from core.face.geometry import disentangle
    from core.face.gltf import write_glb
    from core.face.head import eye_angles, face_texels, textured_head
    from core.face.ict import load_head
    from core.face.media import load_image
    from core.face.neutral import rest_of
    from core.face.reconstruct import reconstruct
    from core.face.tracker import to_camera_frame, track_image

    print(f"imports: {time.perf_counter() - t0:.3f} s")
    t0 = time.perf_counter()
    load_head()
    face_texels()
    eye_angles()
    print(f"one-time (head asset, texel map, eye layout): {time.perf_counter() - t0:.3f} s")

    stages: dict[str, list[float]] = {"decode": [], "track": [], "disentangle+rest": [], "head (fit, bake)": [],
                                      "export_glb": []}
    totals: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            a = time.perf_counter()
            rgb = load_image(photo)
            b = time.perf_counter()
            obs = track_image(rgb)
            c = time.perf_counter()
            parts = disentangle(to_camera_frame(obs.landmarks)[None], canonical_face())
            rest = rest_of(parts.expression_landmarks[0], canonical_face())
            d = time.perf_counter()
            head = textured_head(rgb, obs.landmarks, parts.expression_landmarks[0], rest)
            e = time.perf_counter()
            write_glb(head, Path(tmp) / "head.glb")
            f = time.perf_counter()
            for k, v in zip(stages, (b - a, c - b, d - c, e - d, f - e), strict=True):
                stages[k].append(v)
            a = time.perf_counter()
            write_glb(reconstruct(photo).full_head(), Path(tmp) / "again.glb")
            totals.append(time.perf_counter() - a)
    print(f"photo: {photo}  runs: {runs}")
    for k, times in stages.items():
        print(f"  {k:<18} median {statistics.median(times) * 1000:7.1f} ms")
    print(f"photo → head GLB (reconstruct + export), median {statistics.median(totals):.3f} s  (goal ≤ 1.5 s)")


#: The second reading's scalp starts this far (metres) above the face oval's top (MediaPipe point 10): a high
#: forehead's skin, which point 10 often lies below, is not scalp.
ABOVE = 0.015


def scalp_share(head: object, hair_lab: np.ndarray, above: float = 0.0, size: int = 256) -> float:
    """The share of the front view's scalp pixels (``above`` metres and more over the face oval's top) within dE 15
    of ``hair_lab``."""
    import cv2

    from core.face.ict import load_head
    from core.face.shade import HeadRenderer

    r = HeadRenderer(head, size)  # type: ignore[arg-type]
    img = r.render()
    ict = load_head()
    skin = head.vertices[: len(ict.neutral)].astype(np.float64)  # type: ignore[attr-defined]
    pts = ict.at_points(skin)
    sel = (skin[:, 1] > pts[10, 1] + above) & (skin[:, 2] > pts[10, 2] - 0.07)
    xy = r.to_screen(skin[sel])
    region = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(region, cv2.convexHull(np.round(xy).astype(np.int32)), (1,))
    lab = cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[region.astype(bool)]
    return float(np.mean(np.linalg.norm(lab - hair_lab, axis=1) < 15.0))


def hair_table(folder: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from head_gallery import frame_of, sources

    from core.face.canonical import canonical_face
    from core.face.geometry import disentangle
    from core.face.hair_mask import segment_hair
    from core.face.head import textured_head
    from core.face.neutral import rest_of
    from core.face.tracker import to_camera_frame, track_image

    print("\nhair: front view's scalp above the forehead within dE 15 of the photo's hair colour (goal ≥ 50 %)")
    print(f"{'':45} {'from point 10 up':>19} {'1.5 cm above it and up':>23}")
    print(f"{'face':34} {'hair found':>10} {'bald head':>9} {'with hair':>9} {'bald head':>9} {'with hair':>9} "
          f"{'s':>6}")
    got: list[tuple[str, list[float]]] = []
    for src in sources(folder):
        rgb = frame_of(src)
        obs = track_image(rgb)
        frame = disentangle(to_camera_frame(obs.landmarks)[None], canonical_face()).expression_landmarks[0]
        rest = rest_of(frame, canonical_face())
        hair = segment_hair(rgb, obs.landmarks)
        name = f"{src.parent.name}/{src.stem}"
        if hair.bald:
            print(f"{name:34} {'no':>10}")
            continue
        bald = textured_head(rgb, obs.landmarks, frame, rest, with_hair=False)
        t0 = time.perf_counter()
        head = textured_head(rgb, obs.landmarks, frame, rest)
        took = time.perf_counter() - t0
        shares = [scalp_share(h, hair.lab, a) for a in (0.0, ABOVE) for h in (bald, head)]
        got.append((src.parent.name, shares))
        print(f"{name:34} {'yes':>10} " + " ".join(f"{100 * v:8.1f}%" for v in shares) + f" {took:6.2f}")
    for group in ("grid", "dev-av"):
        rows = [g for g in got if g[0].startswith("s") == (group == "grid")]
        if rows:
            means = np.mean([r[1] for r in rows], axis=0)
            print(f"{group + ' mean':34} {len(rows):>10} " + " ".join(f"{100 * v:8.1f}%" for v in means))


#: Glasses sit within this share of the eyes' span (outer corner to outer corner) of the eyes' rings.
GLASSES_ZONE = 0.25


def texture_de(head: TexturedHead, rgb: np.ndarray, image_landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CIELAB dE between the head's skin texture and the photo at the face's inner MediaPipe points (the oval's rim,
    the eyes' rings and the inner lips left out), each blurred over about a millimetre of skin; and which of those
    points lie where glasses would (``GLASSES_ZONE``: there a photo with glasses shows the frames, the texture the
    skin filled in for them)."""
    import cv2

    from core.face.head import FACE_OVAL, LEFT_EYE, RIGHT_EYE
    from core.face.ict import load_head
    from core.metrics.regions import LIPS_INNER

    ict = load_head()
    names = [m.name for m in head.materials]
    skin = names.index("skin")
    tris = np.where(head.material == skin)[0]
    vertex_uv = np.full((len(head.vertices), 2), np.nan)
    vertex_uv[head.triangles[tris].ravel()] = head.uv[head.triangles_uv[tris].ravel()]
    keep = np.setdiff1d(np.arange(468), list(FACE_OVAL) + list(LEFT_EYE) + list(RIGHT_EYE) + list(LIPS_INNER))
    uv = (ict.corr_weights[keep, :, None] * vertex_uv[ict.corr_vertices[keep]]).sum(1)
    tex = head.materials[skin].texture
    if tex is None:
        raise ValueError("the head's skin has no texture to compare")
    th, tw = tex.shape[:2]
    lm = np.asarray(image_landmarks, np.float64)[keep, :2]
    # a millimetre of skin in each image: the eyes' outer corners are about 9 cm apart
    eyes = float(np.linalg.norm(np.asarray(image_landmarks)[33, :2] - np.asarray(image_landmarks)[263, :2]))
    photo = cv2.GaussianBlur(rgb.astype(np.float32) / 255, (0, 0), max(0.5, eyes / 90))
    tex_f = cv2.GaussianBlur(tex.astype(np.float32) / 255, (0, 0), 2.0)
    ok = np.isfinite(uv).all(1)
    cols = np.clip(np.round(uv[ok, 0] * (tw - 1)), 0, tw - 1).astype(int)
    rows = np.clip(np.round((1 - uv[ok, 1]) * (th - 1)), 0, th - 1).astype(int)
    px = np.clip(np.round(lm[ok]), 0, [rgb.shape[1] - 1, rgb.shape[0] - 1]).astype(int)
    a = cv2.cvtColor(tex_f[rows, cols][None], cv2.COLOR_RGB2LAB)[0]
    b = cv2.cvtColor(photo[px[:, 1], px[:, 0]][None], cv2.COLOR_RGB2LAB)[0]
    rings = np.asarray(image_landmarks, np.float64)[list(LEFT_EYE) + list(RIGHT_EYE), :2]
    zone = np.linalg.norm(lm[ok][:, None] - rings[None], axis=2).min(1) < GLASSES_ZONE * eyes
    return np.asarray(np.linalg.norm(a - b, axis=1)), zone


def face_table(folder: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from head_gallery import frame_of, sources

    from core.face.canonical import canonical_face
    from core.face.geometry import disentangle
    from core.face.head import textured_head
    from core.face.neutral import rest_of
    from core.face.tracker import to_camera_frame, track_image

    print("\nface: the skin texture against the photo at the face's inner points (CIELAB dE), and the iris colour")
    print(f"{'':34} {'all points':>26} {'outside the glasses zone':>26}")
    print(f"{'face':34} {'median':>8} {'90th pct':>8} {'points':>8} {'median':>8} {'90th pct':>8} {'points':>8}"
          "  iris sRGB")
    got: list[tuple[str, float, float, float, float]] = []
    for src in sources(folder):
        rgb = frame_of(src)
        obs = track_image(rgb)
        frame = disentangle(to_camera_frame(obs.landmarks)[None], canonical_face()).expression_landmarks[0]
        head = textured_head(rgb, obs.landmarks, frame, rest_of(frame, canonical_face()))
        de, zone = texture_de(head, rgb, obs.landmarks)
        v = (float(np.median(de)), float(np.percentile(de, 90)), float(np.median(de[~zone])),
             float(np.percentile(de[~zone], 90)))
        got.append((src.parent.name, *v))
        iris = " ".join(f"{c:.3f}" for c in head.iris_colour)
        print(f"{src.parent.name + '/' + src.stem:34} {v[0]:8.2f} {v[1]:8.2f} {len(de):8d} {v[2]:8.2f} {v[3]:8.2f} "
              f"{int((~zone).sum()):8d}  {iris}")
    for group in ("grid", "dev-av"):
        rows = [g[1:] for g in got if g[0].startswith("s") == (group == "grid")]
        if rows:
            m = np.mean(rows, axis=0)
            print(f"{group + ' mean':34} {m[0]:8.2f} {m[1]:8.2f} {'':8} {m[2]:8.2f} {m[3]:8.2f}")


if __name__ == "__main__":
    main()
