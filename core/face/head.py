"""The textured full head of a photo: the ICT head fitted, posed, its face textured from the photo, the rest filled.

Texture: the skin atlas is 2048 × 1024 — ICT's face tile (u 0–1) on the left, its head-and-neck tile (u 1–2) on the
right, each 1024². Every face texel is traced through the head posed as in the photo (identity and the photo's
expression fitted) into the photo; it takes the photo's colour where the photo sees it squarely (facing, not hidden
behind the nose, inside the face oval MediaPipe tracked), fading over a few texels into the person's skin tone,
which fills everything else: sides, ears, neck, the back of the head. Nothing is stretched from a grazing view.
Eyes get an iris in the colour measured between the photo's eyelids; teeth, gums, tongue and the mouth's inside take
the person's colours (``core.face.mouth``: from the lips, from the teeth where the photo shows them, and from a face
video's own open mouths where there is one); lashes a plain colour. The head at rest is the person with no
expression; its 52 shape keys are the ARKit shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.face.arkit import ARKIT_NAMES
from core.face.geometry import fit_similarity
from core.face.ict import HeadFit, IctHead, fit_head, load_head, rest_vertices
from core.face.raster import Raster, barycentric_of, rasterize

if TYPE_CHECKING:
    from core.face.hair_mask import HairMask

TILE = 1024
EYE_TEXTURE = 256
#: MediaPipe's face oval, in order around the face.
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176,
             149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
BROWS = (105, 334, 66, 296, 107, 336)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
#: Plain colours (linear-ish sRGB 0–1) of the untextured parts.
PLAIN = {"teeth": (0.92, 0.89, 0.80), "gums_tongue": (0.58, 0.25, 0.27), "mouth_socket": (0.30, 0.10, 0.11),
         "eye_socket": (0.78, 0.50, 0.50), "eyelashes": (0.16, 0.12, 0.10)}
SKIN_PARTS = ("face", "head")
#: Hair follows its scalp vertex's shape keys where they move it more than this (metres): a raised brow lifts the
#: fringe, a blink's faint reach onto the brow does not stir the hair.
HAIR_FOLLOWS = 0.001
#: The mouth socket (the throat, the cavity's back wall) is this much darker in L* than the lit tongue and gums.
SOCKET_L = 0.6
#: The head's vertices start with the ICT face part's (``scripts/build_ict_head.py`` keeps it first).
FACE_VERTICES = 9409
DEFAULT_IRIS = (0.36, 0.24, 0.16)


@dataclass
class Material:
    name: str
    colour: tuple[float, float, float]
    texture: np.ndarray | None = None  # (H, W, 3) uint8
    roughness: float = 0.7


@dataclass
class TexturedHead:
    """A head ready for export: vertices in metres, Parley's canonical head frame, at rest."""

    vertices: np.ndarray  # (V, 3) float32
    triangles: np.ndarray  # (F, 3) int32
    triangles_uv: np.ndarray  # (F, 3) int32
    uv: np.ndarray  # (U, 2) float32 in [0, 1], origin bottom-left
    material: np.ndarray  # (F,) int index into materials
    materials: list[Material]
    shape_keys: np.ndarray  # (52, V, 3) float32 deltas, metres
    shape_key_names: tuple[str, ...] = ARKIT_NAMES
    iris_colour: tuple[float, float, float] = DEFAULT_IRIS
    notes: list[str] = field(default_factory=list)
    photo_weight: np.ndarray | None = None  # (1024, 1024) float32: how much of each face-tile texel is the photo
    photo_arkit: np.ndarray | None = None  # (52,) the photo's own expression (the head at rest has none)


def material_textures(head: TexturedHead) -> list[np.ndarray | None]:
    """Each material's texture as float32 in [0, 1] (None for a plain colour), for ``albedo``."""
    return [None if m.texture is None else m.texture.astype(np.float32) / 255.0 for m in head.materials]


def albedo(head: TexturedHead, textures: list[np.ndarray | None], tri: np.ndarray, uv: np.ndarray,
           plain_scale: float = 1.0) -> np.ndarray:
    """The surface colour (N, 3) in [0, 1] at points on triangles ``tri`` with texture coordinates ``uv`` (N, 2):
    the material's texture (nearest texel), or its plain colour × ``plain_scale``."""
    mat = head.material[tri]
    out = np.empty((len(tri), 3), np.float32)
    for m, tex in enumerate(textures):
        sel = mat == m
        if not sel.any():
            continue
        if tex is None:
            out[sel] = np.asarray(head.materials[m].colour, np.float32) * plain_scale
            continue
        th, tw = tex.shape[:2]
        px = np.clip((uv[sel, 0] * tw).astype(int), 0, tw - 1)
        py = np.clip(((1.0 - uv[sel, 1]) * th).astype(int), 0, th - 1)
        out[sel] = tex[py, px]
    return out


def skin_uv(uv: np.ndarray, triangles_uv: np.ndarray, part: np.ndarray, part_names: tuple[str, ...]) -> np.ndarray:
    """ICT's tiled UVs → one [0, 1]² layout: face and head tiles side by side in the skin atlas, every other part's
    tile folded into [0, 1] (those use their own texture or none)."""
    out = uv - np.floor(uv)
    skin = np.isin(part, [part_names.index(p) for p in SKIN_PARTS])
    idx = np.unique(triangles_uv[skin])
    out[idx, 0] = uv[idx, 0] / 2.0
    out[idx, 1] = uv[idx, 1]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def face_tile_triangles(head: IctHead) -> tuple[np.ndarray, np.ndarray]:
    """The face part's triangles (indices into the head's) and their UVs in face-tile pixels (F, 3, 2)."""
    face = np.where(head.part == head.part_names.index("face"))[0]
    uv = head.uv[head.triangles_uv[face]].astype(np.float64)
    return face, np.stack([uv[..., 0] * TILE, (1.0 - uv[..., 1]) * TILE], axis=-1)


@lru_cache(maxsize=1)
def face_texels() -> tuple[Raster, np.ndarray]:
    """The face tile's texels: which face triangle covers each, and where (cached). The asset ships the
    triangle map (``face_texels`` in ``ict_head.npz``, made by the build script with ``rasterize``); the weights are
    recomputed from it, which is 20× faster than rasterising."""
    h = load_head()
    face, xy = face_tile_triangles(h)
    if h.face_texels is not None:
        return barycentric_of(xy, h.face_texels), face
    return rasterize(xy, TILE, TILE), face


def vertex_normals(v: np.ndarray, tris: np.ndarray) -> np.ndarray:
    n = np.zeros_like(v, dtype=np.float64)
    fn = np.cross(v[tris[:, 1]] - v[tris[:, 0]], v[tris[:, 2]] - v[tris[:, 0]])
    for k in range(3):
        np.add.at(n, tris[:, k], fn)
    return n / (np.linalg.norm(n, axis=1, keepdims=True) + 1e-12)


def toward_camera(normals: np.ndarray, nose: np.ndarray) -> np.ndarray:
    """(V,) how much each vertex normal (image space, z away from the camera) faces the camera, -1 to 1; the
    winding told by the nose tip's vertices ``nose``, which face it."""
    return normals[:, 2] * (1.0 if normals[nose].mean(0)[2] > 0 else -1.0)


def oval_mask(points2d: np.ndarray, vertices2d: np.ndarray, feather: float) -> np.ndarray:
    """1 deeper than ``feather`` inside the polygon ``points2d`` (the face oval), fading to 0 at its edge: the
    tracked oval's edge is often hair or background."""
    lo, hi = points2d.min(0) - 2 * feather, points2d.max(0) + 2 * feather
    n = 256
    scale = (n - 1) / (hi - lo).max()
    grid = np.zeros((n, n), np.uint8)
    cv2.fillPoly(grid, [np.round((points2d - lo) * scale).astype(np.int32)], (1,))
    inside = cv2.distanceTransform(grid, cv2.DIST_L2, 3) / scale
    outside = cv2.distanceTransform(1 - grid, cv2.DIST_L2, 3) / scale
    signed = inside - outside  # > 0 inside
    ij = np.clip(np.round((vertices2d - lo) * scale).astype(int), 0, n - 1)
    d = signed[ij[:, 1], ij[:, 0]]
    return np.clip(d / feather, 0.0, 1.0)


def iris_colour(rgb: np.ndarray, image_landmarks: np.ndarray) -> tuple[float, float, float] | None:
    """The median colour of the darker half of the pixels between each eye's lids, or None if the eyes are shut."""
    pixels = []
    for eye in (RIGHT_EYE, LEFT_EYE):
        poly = np.round(image_landmarks[list(eye), :2]).astype(np.int32)
        if cv2.contourArea(poly.astype(np.float32)) < 12:
            continue
        mask = np.zeros(rgb.shape[:2], np.uint8)
        cv2.fillPoly(mask, [poly], (1,))
        px = rgb[mask.astype(bool)].astype(np.float32)
        lum = px.mean(1)
        lo, hi = np.percentile(lum, [15, 50])  # the iris: darker than the sclera, lighter than the pupil
        pixels.append(px[(lum >= lo) & (lum <= hi)])
    px_all = np.concatenate(pixels) if pixels else np.zeros((0, 3))
    if len(px_all) < 8:
        return None
    c = np.median(px_all, axis=0) / 255.0
    return (float(c[0]), float(c[1]), float(c[2]))


#: Angles from the eye's axis (degrees): pupil, iris edge (the limbus darkens the last few degrees).
PUPIL_DEG, IRIS_DEG = 9.0, 27.0


def eye_angle_texture(head: IctHead, part: str, size: int = EYE_TEXTURE) -> np.ndarray:
    """(size, size) float32: each texel's angle (degrees) from the eye's axis, for one eyeball part's UV layout
    (both eyes share it). The axis runs from the eyeball's centre to the cornea's apex (its front-most vertex)."""
    sel = np.where(head.part == head.part_names.index(part))[0]
    sel = sel[head.neutral[head.triangles[sel], 0].mean(1) > 0]  # the left eye
    sclera = np.unique(head.triangles[head.part == head.part_names.index("sclera")])
    sclera = sclera[head.neutral[sclera, 0] > 0]
    pts = head.neutral[sclera]
    centre = (pts.min(0) + pts.max(0)) / 2  # the bounding box's: the mesh is denser at the front
    apex = pts[np.argmax(pts[:, 2])]
    axis = (apex - centre) / np.linalg.norm(apex - centre)
    uv = head.uv[head.triangles_uv[sel]].astype(np.float64)
    uv = uv - np.floor(uv.reshape(-1, 2).min(0))
    r = rasterize(np.stack([uv[..., 0] * size, (1.0 - uv[..., 1]) * size], -1), size, size)
    pos = r.interpolate(head.neutral[head.triangles[sel]] - centre)
    d = pos / (np.linalg.norm(pos, axis=-1, keepdims=True) + 1e-9)
    angle = np.degrees(np.arccos(np.clip(d @ axis, -1, 1))).astype(np.float32)
    angle[r.triangle < 0] = np.nan
    return _fill_nan(angle)


def _fill_nan(a: np.ndarray) -> np.ndarray:
    """Texels between UV islands take their nearest island's value (so filtering never blends in black)."""
    holes = np.isnan(a)
    if not holes.any() or holes.all():
        return np.nan_to_num(a, nan=90.0)
    from scipy.ndimage import distance_transform_edt

    _, (iy, ix) = distance_transform_edt(holes, return_indices=True)
    return a[iy, ix]


def eye_texture(angle: np.ndarray, iris: tuple[float, float, float]) -> np.ndarray:
    """An eye coloured by angle from its axis: pupil, iris with radial fibres and a dark limbus, sclera."""
    h, w = angle.shape
    y, x = np.mgrid[0:h, 0:w]
    fibres = 0.82 + 0.18 * np.sin(x * 0.9 + np.sin(y * 0.37) * 3) * np.sin(y * 0.55)
    col = np.empty((h, w, 3), np.float64)
    col[:] = (0.91, 0.88, 0.85)
    behind = np.clip((angle - 60) / 60, 0, 1)[..., None]
    col = col * (1 - 0.3 * behind) + behind * np.array([0.08, 0.0, 0.0])
    in_iris = angle < IRIS_DEG
    limbus = np.clip((angle - (IRIS_DEG - 5)) / 5, 0, 1)
    iris_col = np.asarray(iris)[None, None] * (fibres * (1.15 - 0.55 * limbus))[..., None]
    col[in_iris] = iris_col[in_iris]
    col[angle < PUPIL_DEG] = 0.02
    return np.clip(col * 255, 0, 255).astype(np.uint8)


@lru_cache(maxsize=1)
def eye_angles() -> tuple[np.ndarray, np.ndarray]:
    h = load_head()
    return eye_angle_texture(h, "sclera"), eye_angle_texture(h, "iris")


def eye_textures(iris: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(iris, sclera) textures: the outer sclera mesh carries the cornea, so both show the iris by angle."""
    sclera_angle, iris_angle = eye_angles()
    return eye_texture(iris_angle, iris), eye_texture(sclera_angle, iris)


def bake_face(
    rgb: np.ndarray, image_landmarks: np.ndarray, frame_fit: HeadFit, head: IctHead,
    not_skin: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """The face tile (1024², uint8), its photo weight (1024², 0–1) and the skin tone (0–1 RGB); the photo's pixels
    in ``not_skin`` (H, W bool: its hair) are never taken."""
    k = len(frame_fit.identity)
    local = head.neutral + np.tensordot(frame_fit.identity, head.identity[:k], 1)
    local = local + np.tensordot(frame_fit.arkit, head.arkit, 1)
    placed = frame_fit.place(local)  # canonical metres, posed as in the photo (expression), pose removed
    to_image = fit_similarity(np.asarray(image_landmarks, np.float64)[None], head.at_points(placed), points=None)
    img = to_image.apply(placed.astype(np.float64)[None])[0]  # x, y pixels; z grows away from the camera
    skin = np.where(np.isin(head.part, [head.part_names.index(p) for p in SKIN_PARTS]))[0]
    tris = head.triangles[skin]
    facing = toward_camera(vertex_normals(img, tris), head.corr_vertices[1])
    h_img, w_img = rgb.shape[:2]
    zbuf = rasterize(img[tris][..., :2], w_img, h_img, depth=img[tris][..., 2])
    depth = zbuf.interpolate(img[tris][..., 2:3])[..., 0]
    texels, face_tris = face_texels()
    per_vertex = np.concatenate([img, facing[:, None]], axis=1)
    values = texels.interpolate(per_vertex[head.triangles[face_tris]])
    x, y, z, cos = values[..., 0], values[..., 1], values[..., 2], values[..., 3]
    covered = texels.triangle >= 0
    xi = np.clip(np.round(x - 0.5).astype(int), 0, w_img - 1)
    yi = np.clip(np.round(y - 0.5).astype(int), 0, h_img - 1)
    span = float(np.ptp(img[:, 1]))
    seen = covered & (z <= depth[yi, xi] + 0.03 * span) & (x >= 0) & (x < w_img) & (y >= 0) & (y < h_img)
    oval = np.asarray(image_landmarks, np.float64)[list(FACE_OVAL), :2]
    region = oval_mask(oval, img[:, :2], feather=0.04 * span)
    reg = texels.interpolate(region[head.triangles[face_tris]][..., None])[..., 0]
    weight = np.where(seen, np.clip((cos - 0.1) / 0.3, 0.0, 1.0) * reg, 0.0).astype(np.float32)
    # the skin tone: the median of the face's surely seen pixels between its shadows and highlights, taken before
    # hair or glasses frames are left out of the bake (without the dark frames the band of brightness rises and the
    # tone with it: the whole face came out lighter than the photo's; bench_reconstruct's face table)
    colour = cv2.remap(rgb, (x - 0.5).astype(np.float32), (y - 0.5).astype(np.float32), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    sure = weight > 0.9
    tone_px = colour[sure] if sure.sum() > 100 else rgb.reshape(-1, 3).astype(np.float32)
    lum = tone_px.mean(1)
    mid = (lum > np.percentile(lum, 30)) & (lum < np.percentile(lum, 80))  # no shadows, no highlights
    tone = np.median(tone_px[mid], axis=0)
    if not_skin is not None:
        grown = cv2.dilate(not_skin.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
        weight *= 1.0 - cv2.remap(grown, (x - 0.5).astype(np.float32), (y - 0.5).astype(np.float32),
                                  cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    # hair over the forehead: above the brows, a texel far from the skin's colour is not skin
    brow_y = float(head.at_points(placed)[list(BROWS), 1].mean())
    above = np.clip((placed[:, 1] - brow_y - 0.008) / 0.01, 0.0, 1.0)
    forehead = texels.interpolate(above[head.triangles[face_tris]][..., None])[..., 0]
    unlike = np.clip((np.linalg.norm(colour - tone, axis=-1) - 45.0) / 45.0, 0.0, 1.0)
    weight *= 1.0 - forehead * unlike
    # the photo's light: its broad shading (a shadowed cheek, a lit side) is evened out to the skin tone's
    # brightness, features (brows, lips, eyes: narrower than the blur) kept
    wide, broad = _broad(weight), _broad(colour.mean(-1) * weight)
    gain = np.clip(float(tone.mean()) / np.maximum(broad / np.maximum(wide, 1e-3), 1.0), 0.75, 1.5)
    colour = colour * np.where(wide > 0.05, gain, 1.0)[..., None]
    soft = cv2.GaussianBlur(cv2.erode(weight, np.ones((3, 3), np.uint8), iterations=2), (0, 0), 3.0)
    tex = soft[..., None] * colour + (1.0 - soft[..., None]) * tone[None, None]
    tone01 = tuple(float(c) / 255.0 for c in tone)
    return np.clip(tex, 0, 255).astype(np.uint8), soft, (tone01[0], tone01[1], tone01[2])


def person_mouth(rgb: np.ndarray, image_landmarks: np.ndarray,
                 open_views: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> dict[str, tuple[float, float, float]]:
    """The teeth, tongue-and-gums and mouth-socket colours of this person (``core.face.mouth``; ``open_views``: a
    face video's most open frames and their landmarks, whose inside is used where they show one)."""
    from core.face.mouth import mouth_colours, to_lab, to_rgb

    m = mouth_colours(rgb, np.asarray(image_landmarks, np.float64), open_views)
    socket = to_lab(np.asarray(m.inside))[0] * np.array([SOCKET_L, 1.0, 1.0])
    return {"teeth": m.teeth, "gums_tongue": m.inside, "mouth_socket": to_rgb(socket)}


def _broad(a: np.ndarray, sigma: float = 24.0, step: int = 4) -> np.ndarray:
    """A wide Gaussian blur, computed at 1/``step`` resolution (the result is smooth: nothing is lost)."""
    h, w = a.shape
    small = cv2.resize(a.astype(np.float32), (w // step, h // step), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / step), (w, h), interpolation=cv2.INTER_LINEAR)


def textured_head(
    rgb: np.ndarray, image_landmarks: np.ndarray, frame_landmarks: np.ndarray, rest: np.ndarray,
    head: IctHead | None = None, with_hair: bool = True, open_views: Sequence[tuple[np.ndarray, np.ndarray]] = (),
) -> TexturedHead:
    """The person's head from one photo.

    Args:
        rgb: the photo (H, W, 3) uint8.
        image_landmarks: the face's tracked landmarks in it (468, 3), pixels.
        frame_landmarks: the same frame in the canonical head frame (468, 3), metres, pose removed.
        rest: the person at rest (468, 3) (``core.face.neutral``): identity is fitted to it, so the head is neutral.
        with_hair: give the head the photo's hair (``core.face.hair``; a bald head gets none).
        open_views: (RGB, image landmarks) of a face video's most open mouths: the inside of the head's mouth
            takes their colour (``core.face.mouth``).
    """
    from core.face.hair_mask import segment_hair

    h = head or load_head()
    rest_fit = fit_head(rest, h, expression=False)
    frame_fit = fit_head(frame_landmarks, h, identity=rest_fit.identity)
    from core.face.glasses import frame_mask, has_glasses

    hair = segment_hair(rgb, image_landmarks) if with_hair else None
    not_skin = hair.mask.copy() if hair is not None and not hair.bald else None
    glasses = has_glasses(rgb, image_landmarks)
    if glasses:  # the frames are not skin: the bake fills them from the skin round them
        frames = frame_mask(rgb, image_landmarks)
        not_skin = frames if not_skin is None else not_skin | frames
    face_tile, weight, tone = bake_face(rgb, image_landmarks, frame_fit, h, not_skin=not_skin)
    atlas = np.empty((TILE, 2 * TILE, 3), np.uint8)
    atlas[:, :TILE] = face_tile
    atlas[:, TILE:] = np.round(np.asarray(tone) * 255).astype(np.uint8)
    notes: list[str] = []
    if glasses:
        notes.append("glasses found: kept out of the skin texture (the head has no frames)")
    iris = iris_colour(rgb, image_landmarks)
    if iris is None:
        notes.append("the eyes are closed in the photo: the iris colour is a default brown")
        iris = DEFAULT_IRIS
    iris_tex, sclera_tex = eye_textures(iris)
    names = list(h.part_names)
    materials = [Material("skin", tone, atlas, 0.65), Material("iris", iris, iris_tex, 0.2),
                 Material("sclera", (0.9, 0.87, 0.84), sclera_tex, 0.2)]
    plain = dict(PLAIN, **person_mouth(rgb, image_landmarks, open_views))
    materials += [Material(p, plain[p], None, 0.35 if p == "teeth" else 0.6) for p in PLAIN]
    by_name = {m.name: i for i, m in enumerate(materials)}
    part_material = np.array([by_name["skin"] if n in SKIN_PARTS else by_name[n] for n in names])
    out = TexturedHead(
        vertices=rest_vertices(rest_fit, h),
        triangles=h.triangles.astype(np.int32),
        triangles_uv=h.triangles_uv.astype(np.int32),
        uv=skin_uv(h.uv, h.triangles_uv, h.part, h.part_names),
        material=part_material[h.part],
        materials=materials,
        shape_keys=rest_fit.orient(h.arkit),
        iris_colour=iris,
        notes=notes,
        photo_weight=weight.astype(np.float32),
        photo_arkit=frame_fit.arkit.copy(),
    )
    if hair is not None:
        if hair.bald:
            out.notes.append("no hair found over the forehead: the head is left bald")
        else:
            add_hair(out, rgb, image_landmarks, hair, h)
    return out


def add_hair(out: TexturedHead, rgb: np.ndarray, image_landmarks: np.ndarray, hair: HairMask, h: IctHead) -> None:
    """Append the photo's hair to the head as its own material (``core.face.hair``); its vertices follow the
    nearest scalp vertex's shape keys, so a raised brow lifts the fringe."""
    from core.face.hair import hair_piece

    points = h.at_points(out.vertices.astype(np.float64))
    to_image = fit_similarity(np.asarray(image_landmarks, np.float64)[None], points)
    skin = np.unique(out.triangles[np.isin(h.part, [h.part_names.index(p) for p in SKIN_PARTS])])
    piece = hair_piece(out.vertices, skin, to_image, rgb, hair, points)
    if piece is None:
        return
    v0, u0 = len(out.vertices), len(out.uv)
    out.vertices = np.concatenate([out.vertices, piece.vertices]).astype(np.float32)
    out.uv = np.concatenate([out.uv, piece.uv]).astype(np.float32)
    out.triangles = np.concatenate([out.triangles, piece.triangles + v0]).astype(np.int32)
    out.triangles_uv = np.concatenate([out.triangles_uv, piece.triangles + u0]).astype(np.int32)
    out.material = np.concatenate([out.material, np.full(len(piece.triangles), len(out.materials))])
    out.materials.append(Material("hair", piece.colour, piece.texture, 0.8))
    follow = out.shape_keys[:, piece.anchor]
    follow[np.linalg.norm(follow, axis=-1) < HAIR_FOLLOWS] = 0.0  # a shape's faint reach (a blink's on the brow)
    out.shape_keys = np.concatenate([out.shape_keys, follow], axis=1).astype(np.float32)
