"""Photo frames of the person saying the audio, by a 3D-aware warp: the head fitted to the photo, posed and
expressed per frame, re-projected into the photo's camera.

The head (``core.face.head``) already carries the photo on its face tile: each face texel knows the photo's colour
where the photo saw it. Per frame the head is given the result's ARKit weights and head pose, projected with the
same similarity that put it on the photo, rasterised (``core.face.raster``), and each face pixel takes its texel's
colour, blended by how surely the photo saw that texel; eyes, teeth, tongue and the mouth's inside come from the
head's own materials. In practice it is one backward flow: each pixel on the posed head looks up where the same
point of the surface was in the photo; around the head that flow is carried smoothly onto the hair, ears and neck
and fades out over the person. The background — what MediaPipe's selfie segmentation does not call the person —
stays where the photo has it, and what the head uncovers is filled from the background round the person
(``clean_plate``): a shelf behind the head does not bend as the head moves, and no ghost of the old outline is left.
The mouth's inside, teeth and tongue, which the photo never showed, take the head's own colours, in the mouth's
shadow: darker the deeper behind the lips, and darker as the lips close (a slit lets little light in:
``slit_light``), and of the lips' own hue through a slit (``LIP_TINT``). The skin just under the jaw line moves as
the jaw's edge does (``UNDER_JAW``): a soft jaw's real edge and shadow lie there, below MediaPipe's line.
This is the plain warp the neural renderer (issue 14) has to beat: its teeth are not the person's, and a big turn
stretches the hair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from core.errors import ParleyError
from core.face.geometry import Similarity, euler_to_rotation, fit_similarity
from core.face.hair_mask import person_mask
from core.face.head import TexturedHead, albedo, material_textures, toward_camera, vertex_normals
from core.face.ict import load_head
from core.face.mouth import lip_lab
from core.face.raster import rasterize
from core.metrics.regions import JAW

if TYPE_CHECKING:
    from core.render.inside import InsideMatch

#: The longest output side Parley renders (memory and time grow with its square).
MAX_SIZE = 2048
#: MediaPipe points of the lips (corners, outer middles) and of the cheeks (the face's width): the refiner's window.
MOUTH = [61, 291, 0, 17]
CHEEKS = (234, 454)
#: How far behind the lips (metres) the mouth's inside has fallen to its darkest, and how dark that is (the share
#: of its colour lost); its materials carry the person's lit inside (``core.face.mouth``).
MOUTH_SHADOW_DEPTH = 0.035
MOUTH_SHADOW = 0.4
INNER_GAIN = 1.0
#: A mouth barely open lets little light in: below this gap between the inner lips (metres) its whole inside —
#: teeth too — darkens with the gap, to ``SLIT_FLOOR`` of its colour's L* when the lips meet (a GRID talker's
#: 2–5 mm opening is a dark line, not a row of teeth).
SLIT_GAP = 0.008
SLIT_FLOOR = 0.4
#: MediaPipe's inner-lip middles (upper, lower): the gap.
INNER_LIPS = (13, 14)
#: Through a barely open mouth one sees mostly the lips' wet inner side: below ``SLIT_GAP`` the inside's a*, b* move
#: towards the photo's lips', up to this share when the lips meet (GRID's barely open mouths are redder than its most
#: open ones: ``scripts/mouth_views_gap.py``; chosen on the rest speakers, ``bench_render.py --tune --clips 12``).
LIP_TINT = 1.0
#: Over what share of the output's size (inside the head's outline) its flow blends into the flow around it.
SEAM_FEATHER = 0.012
#: The skin just under the jaw moves with the jaw's edge (its shift, without the depth's parallax) down to this far
#: below MediaPipe's jaw line, then less and less over ``UNDER_JAW_FADE`` (metres): on a soft jaw the photo's real
#: edge and its shadow lie under that line, on the neck, and were left behind by a turn or a lifted chin as a second
#: jaw line.
UNDER_JAW, UNDER_JAW_FADE = 0.01, 0.02
#: … under the jaw line where it runs across, thinning out where it turns upright towards the jaw's corners (the
#: line's slope: 1 level, this or less none of the band).
UNDER_JAW_LEVEL = 0.8
#: … on skin that faces the camera (its normal's share towards it: this or less, none of the band; 1, all of it).
UNDER_JAW_FACING = 0.5
#: A result's head translation moves the whole head — face, hair, ears — not the face alone: its shift is carried
#: in full over the head's outline at the photo's pose (hair included) widened by this share of the output's size,
#: fading out around it and from the chin down over ``CARRY_NECK`` of the head's height (the neck and shoulders stay).
CARRY_SPREAD, CARRY_NECK = 0.03, 0.3
#: The photo's person is what MediaPipe's selfie segmentation gives more than ``PERSON_MIN`` (and the fitted head's
#: outline), grown by this share of the output's size to take their soft edge and stray hairs along; the rest of the
#: photo is background and stays still.
PERSON_MIN, PERSON_MARGIN = 0.05, 0.01
#: Where the segmentation calls less than this share of the drawn face the person, it has failed (a drawing, a
#: statue, a face it does not know): the whole photo is then taken as the person and moves as the head's flow says.
PERSON_FOUND = 0.6
#: Materials drawn over the photo by the warp (the lashes are the photo's own, painted on the face).
DRAWN = ("skin", "iris", "sclera", "teeth", "gums_tongue", "mouth_socket", "eye_socket")


@dataclass
class Stage:
    """A photo and its fitted head, placed in the photo's camera."""

    rgb: np.ndarray  # (H, W, 3) uint8
    head: TexturedHead
    to_image: Similarity  # Parley's canonical frame (metres) → photo pixels (x, y; z grows away from the camera)
    #: another frame of the same footage for the refiner's reference (a face video's most open mouth): its RGB (the
    #: photo's size), ARKit weights (52,) and pose (6,) relative to the photo's
    reference: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    #: how the head's mouth was matched to a face video's open mouths (``core.render.inside``), where it was
    inside_match: InsideMatch | None = None


def photo_vertices(head: TexturedHead) -> np.ndarray:
    """(V, 3) float64: the head with the photo's own expression, as the photo shows it."""
    v = head.vertices.astype(np.float64)
    if head.photo_arkit is None:
        return v
    return v + np.tensordot(head.photo_arkit.astype(np.float64), head.shape_keys, axes=1)


def make_stage(rgb: np.ndarray, image_landmarks: np.ndarray, head: TexturedHead) -> Stage:
    """Place ``head`` (made from this photo) in the photo: the similarity that takes it, with the photo's own
    expression, onto the tracked landmarks."""
    points = load_head().at_points(photo_vertices(head))
    to_image = fit_similarity(np.asarray(image_landmarks, np.float64)[None], points, points=None)
    return Stage(rgb, head, to_image)


class WarpRenderer:
    """Renders frames of one stage at a size (the photo's framing, ``size`` pixels on its long side)."""

    def __init__(self, stage: Stage, size: int = 512, refiner: Any = None, refined_inside: bool = False) -> None:
        if not 64 <= size <= MAX_SIZE:
            raise ParleyError(f"--size {size}: must be between 64 and {MAX_SIZE} pixels")
        h, w = stage.rgb.shape[:2]
        self.scale = size / max(h, w)
        self.width, self.height = max(2, round(w * self.scale) // 2 * 2), max(2, round(h * self.scale) // 2 * 2)
        self.stage = stage
        head = stage.head
        names = [m.name for m in head.materials]
        drawn = np.isin(head.material, [names.index(n) for n in DRAWN if n in names])
        self.keep = np.where(drawn & ~_unseen_skin(head))[0]
        self.textures = material_textures(head)
        self.moved = np.where(np.abs(head.shape_keys).max(axis=(0, 2)) > 1e-7)[0]
        self.photo = cv2.resize(stage.rgb, (self.width, self.height), interpolation=cv2.INTER_AREA)
        expr = photo_vertices(head)
        self.source_xy = (stage.to_image.apply(expr[None])[0][:, :2] * self.scale).astype(np.float32)
        self.inner = [names.index(n) for n in ("teeth", "gums_tongue", "mouth_socket") if n in names]
        # the neck does not turn with the head: the pose fades out from the chin to 6 cm below it (the shoulders and
        # the collar stay where the photo has them)
        self._ict = load_head()
        rest_points = self._ict.at_points(head.vertices.astype(np.float64))
        chin = float(rest_points[152, 1])
        self.follow = np.clip((head.vertices[:, 1] - (chin - 0.06)) / 0.06, 0.0, 1.0)[:, None]
        self.photo_v = expr
        #: the photo's 468 MediaPipe points on its head (canonical metres)
        photo_points = self._ict.at_points(expr)
        self._under_jaw(names, photo_points)
        # the mouth's inside is in its own shadow: the deeper behind the lips, the darker (a cheap occlusion term)
        depth = np.clip((float(rest_points[MOUTH, 2].mean()) - head.vertices[:, 2]) / MOUTH_SHADOW_DEPTH, 0.0, 1.0)
        self.inner_shade = (1.0 - MOUTH_SHADOW * depth**0.7).astype(np.float32)
        self.front_sign = self._winding()
        lips = lip_lab(stage.rgb, stage.to_image.apply(photo_points[None])[0][:, :2]) if LIP_TINT else None
        #: the photo's lips' a*, b*, which a barely open mouth's inside takes on (None: not found, no tint)
        self.lip_ab = None if lips is None else np.asarray(lips[1:], np.float32)
        placed = stage.to_image.apply(head.vertices.astype(np.float64)[None])[0] * self.scale
        #: the whole head (hair included) as the photo shows it, 0 or 1
        outline = (rasterize(placed[head.triangles][..., :2], self.width, self.height).triangle >= 0).astype(np.float32)
        self.carry = self._carry(outline, float(np.ptp(placed[:, 1])), rest_points[152])
        seen = cv2.resize(person_mask(stage.rgb), (self.width, self.height), interpolation=cv2.INTER_LINEAR)
        face = rasterize(placed[head.triangles[self.keep]][..., :2], self.width, self.height).triangle >= 0
        if face.any() and float((seen[face] > 0.5).mean()) < PERSON_FOUND:
            seen = np.ones_like(seen)
        #: (H, W) 0–1: the photo's person, who moves; and the photo with what lies behind them filled in
        self.person, self.plate = clean_plate(self.photo, np.maximum(seen, outline))
        #: canonical metres → output pixels (x, y) for a displacement: the photo's similarity without its offset
        to = stage.to_image
        self.to_pixels = (float(to.scale[0]) * to.rotation[0][:2] * self.scale).astype(np.float64)
        self.refiner = refiner  # core.models.refiner.RefinerNet, or None: the plain warp
        # the refiner repairs lips and skin but paints the mouth's inside a flat fill: by default the warp's own
        # inside (the person's teeth and cavity colours) is laid back over it (issue 22, ``bench_render``)
        self.refined_inside = refined_inside
        self.inner_mask = np.zeros((self.height, self.width), np.float32)
        #: each drawn inside pixel's material (teeth, tongue and gums, socket), -1 elsewhere: what the last frame
        #: showed of the mouth (``core.render.inside`` matches it to a face video's)
        self.inner_part = np.full((self.height, self.width), -1, np.int16)
        # the refiner's window: a square on the mouth, as wide as the face is between the cheeks, following the
        # mouth frame by frame (``window``); the photo's own is the reference
        img = stage.to_image.apply(photo_points[None])[0][:, :2] * self.scale
        self.window_side = float(np.linalg.norm(img[CHEEKS[0]] - img[CHEEKS[1]])) * 0.8
        self.window = self._window_at(photo_points)
        if refiner is not None:
            self.reference_crop = self.crop(self.photo, refiner.cfg.crop)
            self.feather = _feather(refiner.cfg.crop)
            if stage.reference is not None and refiner.cfg.reference == "open":
                self.reference_crop = self.reference_window(*stage.reference, refiner.cfg.crop)

    def reference_window(self, rgb: np.ndarray, arkit: np.ndarray, pose: np.ndarray, size: int) -> np.ndarray:
        """The ``size``² mouth window of another frame ``rgb`` of the photo's footage, where the head with
        ``arkit`` and ``pose`` puts the mouth."""
        window = self._window_at(self._ict.at_points(self._posed(arkit, pose)))
        img = cv2.resize(rgb, (self.width, self.height), interpolation=cv2.INTER_AREA)
        return self.crop(img, size, window)

    def _posed(self, arkit: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """(V, 3) float64: the head at ARKit weights ``arkit`` and motion ``pose`` (the neck following partly)."""
        head = self.stage.head
        v = head.vertices.astype(np.float64).copy()
        nz = np.nonzero(arkit)[0]
        if len(nz):
            v[self.moved] += np.tensordot(arkit[nz].astype(np.float64), head.shape_keys[nz][:, self.moved], axes=1)
        posed = v @ euler_to_rotation(np.asarray(pose[None, :3], np.float64))[0].T + np.asarray(pose[3:6], np.float64)
        out = self.follow * posed + (1.0 - self.follow) * v
        if len(self.under_jaw):
            jaw = (self.jaw_weights[..., None] * out[self.jaw_vertices]).sum(1)  # the jaw line, left to right
            shift = jaw - self.jaw_photo
            along = np.stack([np.interp(self.under_x, self.jaw_photo[:, 0], shift[:, k]) for k in range(3)], 1)
            w = self.under_w[:, None]
            out[self.under_jaw] = w * (self.photo_v[self.under_jaw] + along) + (1.0 - w) * out[self.under_jaw]
        return out

    def _under_jaw(self, names: list[str], photo_points: np.ndarray) -> None:
        """The skin vertices under the photo's jaw line that move with it (``UNDER_JAW``): their index, weight and
        where along the jaw (x, metres) they sit; and the jaw line's points, left to right, as ICT vertex weights."""
        head = self.stage.head
        order = np.argsort(photo_points[list(JAW), 0])
        self.jaw_vertices = self._ict.corr_vertices[np.asarray(JAW)[order]]
        self.jaw_weights = self._ict.corr_weights[np.asarray(JAW)[order]]
        v = self.photo_v
        self.jaw_photo = (self.jaw_weights[..., None] * v[self.jaw_vertices]).sum(1)
        self.under_jaw, self.under_w, self.under_x = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        if "skin" not in names:
            return
        skin_tris = head.triangles[head.material == names.index("skin")]
        # each vertex's nearest point on the jaw line (x, y): the band lies under the line where it runs across
        # (the chin and the jaw's underside), not beside its steep ends by the jaw's corners, where what lies
        # "under" it in the photo is often the background
        _, _, near, dist, across = _nearest_on_line(self.jaw_photo[:, :2], v[:, :2])
        below = near[:, 1] - v[:, 1]
        level = np.clip((across - UNDER_JAW_LEVEL) / (1.0 - UNDER_JAW_LEVEL), 0.0, 1.0)
        # only skin that faces the camera (as the photo's camera sees it): where the neck turns away to its sides it
        # meets the background, and moving it there would tear the neck's outline
        facing = toward_camera(vertex_normals(self.stage.to_image.apply(v[None])[0], skin_tris),
                               self._ict.corr_vertices[1])
        toward = np.clip((facing - UNDER_JAW_FACING) / (1.0 - UNDER_JAW_FACING), 0.0, 1.0)
        w = np.clip(1.0 - (dist - UNDER_JAW) / UNDER_JAW_FADE, 0.0, 1.0) * (below > 0.0) * level * toward
        on_skin = np.zeros(len(v), bool)
        on_skin[np.unique(skin_tris)] = True
        sel = np.where(on_skin & (w > 0.0))[0]
        self.under_jaw, self.under_w, self.under_x = sel, w[sel], v[sel, 0]

    def frame(self, arkit: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """(height, width, 3) uint8: the photo with the head at ARKit weights ``arkit`` (52,) and motion ``pose``
        (6,) — relative to the photo's own head pose, as results give it."""
        head = self.stage.head
        v = self._posed(arkit, pose)
        p = self.stage.to_image.apply(v[None])[0]
        points = self._ict.at_points(v)
        self.window = self._window_at(points)
        #: the frame's 468 MediaPipe points where the head puts them (x, y output pixels)
        self.landmarks = (self.stage.to_image.apply(points[None])[0][:, :2] * self.scale).astype(np.float32)
        xy, z = p[:, :2] * self.scale, p[:, 2]
        tris = head.triangles[self.keep]
        t_xy = xy[tris]
        signed = (t_xy[:, 1, 0] - t_xy[:, 0, 0]) * (t_xy[:, 2, 1] - t_xy[:, 0, 1]) - (
            t_xy[:, 1, 1] - t_xy[:, 0, 1]) * (t_xy[:, 2, 0] - t_xy[:, 0, 0])
        idx = self.keep[self.front_sign * signed > 0]
        r = rasterize(xy[head.triangles[idx]], self.width, self.height, depth=z[head.triangles[idx]])
        hit = r.triangle >= 0
        # where each output pixel's surface point was in the photo: the backward flow of the head …
        flow = np.zeros((self.height, self.width, 2), np.float32)
        mask = np.zeros((self.height, self.width), np.float32)
        if hit.any():
            tri = idx[r.triangle[hit]]
            src = np.einsum("nk,nkc->nc", r.bary[hit], self.source_xy[head.triangles[tri]])
            gy, gx = np.nonzero(hit)
            flow[hit] = src - np.stack([gx + 0.5, gy + 0.5], 1)
            mask[hit] = 1.0
        # … carried smoothly onto the hair, ears and neck around it, fading out over the person; inside the
        # head's outline the two flows are blended over a few pixels, so the jaw and cheeks meet the neck and hair
        # without a seam
        # the head's translation, as it shifts the image, is carried in full over the whole head and its hair, where
        # the spread's fading share of it fell short (a translated face used to leave its hair and ears behind, its
        # cheek's edge torn)
        shift = (self.to_pixels @ np.asarray(pose[3:6], np.float64)).astype(np.float32)
        spread, fade = self._spread(flow, mask)
        spread -= shift * np.maximum(self.carry - fade, 0.0)[..., None]
        inward = cv2.distanceTransform(hit.astype(np.uint8), cv2.DIST_L2, 3)
        blend = np.clip(inward / max(1.0, SEAM_FEATHER * max(self.width, self.height)), 0.0, 1.0)[..., None]
        flow = blend * flow + (1.0 - blend) * spread
        gx, gy = np.meshgrid(np.arange(self.width, dtype=np.float32), np.arange(self.height, dtype=np.float32))
        # where the person was cut by the frame's edge (hair over the top) and moves in from it, what comes in is
        # their own edge mirrored, not its last row repeated into streaks
        out = cv2.remap(self.photo, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT_101).astype(np.float32)
        # the person, moved, over the background, still: where they no longer cover it, its clean plate
        person = cv2.remap(self.person, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT_101)
        a = np.maximum(person, hit)[..., None]
        out = a * out + (1.0 - a) * self.plate
        self.inner_mask[:] = 0.0
        self.inner_part[:] = -1
        if hit.any():  # what the photo never showed: the mouth's inside, teeth, tongue — the head's own colours
            inner = np.isin(head.material[tri], self.inner)
            if inner.any():
                uv = np.einsum("nk,nkc->nc", r.bary[hit][inner], head.uv[head.triangles_uv[tri[inner]]])
                shade = np.einsum("nk,nk->n", r.bary[hit][inner], self.inner_shade[head.triangles[tri[inner]]])
                gap = float(np.linalg.norm(points[INNER_LIPS[0]] - points[INNER_LIPS[1]]))
                shade = shade * slit_light(gap)
                tint = None if self.lip_ab is None else (LIP_TINT * (1.0 - slit_open(gap)), self.lip_ab)
                colour = _shaded(albedo(head, self.textures, tri[inner], uv, plain_scale=INNER_GAIN), shade, tint)
                rows, cols = np.nonzero(hit)
                out[rows[inner], cols[inner]] = colour
                self.inner_mask[rows[inner], cols[inner]] = 1.0
                self.inner_part[rows[inner], cols[inner]] = head.material[tri[inner]]
        frame = np.clip(out, 0, 255).astype(np.uint8)
        return self._refined(frame) if self.refiner is not None else frame

    def _window_at(self, points: np.ndarray) -> tuple[float, float]:
        """The window's centre (x, y) in output pixels: the lips' middle of the 468 points ``points`` (canonical)."""
        img = self.stage.to_image.apply(points[MOUTH][None])[0][:, :2] * self.scale
        c = img.mean(0)
        return float(c[0]), float(c[1])

    def _to_crop(self, size: int, window: tuple[float, float] | None = None) -> np.ndarray:
        """The 2×3 affine taking output pixels to the ``size``² crop of ``window`` (the current one by default)."""
        cx, cy = window if window is not None else self.window
        s = size / self.window_side
        return np.array([[s, 0.0, size / 2 - s * cx], [0.0, s, size / 2 - s * cy]], np.float64)

    def crop(self, img: np.ndarray, size: int, window: tuple[float, float] | None = None) -> np.ndarray:
        """The ``size``² square of ``img`` on the mouth window (sub-pixel, the border replicated)."""
        flags = cv2.INTER_AREA if self.window_side > size else cv2.INTER_LINEAR
        return cv2.warpAffine(np.ascontiguousarray(img), self._to_crop(size, window), (size, size), flags=flags,
                              borderMode=cv2.BORDER_REPLICATE)

    def _refined(self, frame: np.ndarray) -> np.ndarray:
        from core.models.refiner import refine

        n = self.refiner.cfg.crop
        fixed = refine(self.refiner, self.crop(frame, n), self.crop(self.inner_mask, n), self.reference_crop)
        back = cv2.invertAffineTransform(self._to_crop(n))
        size = (self.width, self.height)
        big = cv2.warpAffine(fixed, back, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        weight = cv2.warpAffine(self.feather, back, size, flags=cv2.INTER_LINEAR)[..., None]
        out = frame.astype(np.float32) * (1 - weight) + big.astype(np.float32) * weight
        if not self.refined_inside and self.inner_mask.any():
            inside = cv2.GaussianBlur(self.inner_mask, (0, 0), 0.7)[..., None]
            out = out * (1 - inside) + frame.astype(np.float32) * inside
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)

    def _carry(self, outline: np.ndarray, height: float, chin: np.ndarray) -> np.ndarray:
        """(height, width) 0–1: how much of the head's translation each output pixel takes — all of it over the
        head's ``outline`` (hair included; ``height`` pixels tall), none in the background or below the neck
        (``CARRY_SPREAD``, ``CARRY_NECK``)."""
        sigma = max(1.0, CARRY_SPREAD * max(self.width, self.height))
        w = np.maximum(np.clip(cv2.GaussianBlur(outline, (0, 0), sigma) * 2.0, 0.0, 1.0), outline)
        chin_y = float(self.stage.to_image.apply(np.asarray(chin, np.float64)[None, None])[0, 0, 1]) * self.scale
        ys = np.arange(self.height, dtype=np.float32)[:, None]
        below = np.clip((ys - chin_y) / max(1.0, CARRY_NECK * height), 0.0, 1.0)
        return (w * (1.0 - below)).astype(np.float32)

    def _spread(self, flow: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The head's flow extended beyond it (normalised convolution at quarter resolution), fading with distance;
        and that fade (H, W)."""
        h, w = mask.shape
        small = (max(1, w // 4), max(1, h // 4))
        m = cv2.resize(mask, small, interpolation=cv2.INTER_AREA)
        f = cv2.resize(flow * mask[..., None], small, interpolation=cv2.INTER_AREA)
        sigma = max(1.0, 0.04 * max(small))
        mb = cv2.GaussianBlur(m, (0, 0), sigma)
        fb = cv2.GaussianBlur(f, (0, 0), sigma) / np.maximum(mb, 1e-4)[..., None]
        fade = np.clip(mb * 2.0, 0.0, 1.0)
        return (cv2.resize(fb * fade[..., None], (w, h), interpolation=cv2.INTER_LINEAR),
                cv2.resize(fade, (w, h), interpolation=cv2.INTER_LINEAR))

    def _winding(self) -> float:
        """The winding that faces the camera in image space (y down), fixed by the photo's own placement: the
        sign the nearest triangles have."""
        head = self.stage.head
        t = self.stage.to_image.apply(head.vertices.astype(np.float64)[None])[0][head.triangles[self.keep]]
        cross_z = (t[:, 1, 0] - t[:, 0, 0]) * (t[:, 2, 1] - t[:, 0, 1]) - (t[:, 1, 1] - t[:, 0, 1]) * (
            t[:, 2, 0] - t[:, 0, 0])
        depth = t[:, :, 2].mean(1)
        return 1.0 if np.median(cross_z[depth < np.percentile(depth, 30)]) > 0 else -1.0


def slit_open(gap: float) -> float:
    """How open a mouth is for its light and hue, 0 (the lips meet) to 1 (``SLIT_GAP`` or more between them)."""
    return min(max(gap, 0.0) / SLIT_GAP, 1.0)


def slit_light(gap: float) -> float:
    """The share of light that reaches a mouth's inside through a ``gap`` (metres) between the inner lips."""
    return SLIT_FLOOR + (1.0 - SLIT_FLOOR) * slit_open(gap)


def _unseen_skin(head: TexturedHead) -> np.ndarray:
    """(F,) bool: the head's skin triangles beside and above the face — outside the face oval (MediaPipe's outline on
    the fitted head, seen from the front) or behind it, above the mouth's corners, and beside the jaw down to the
    chin's height: the temples, ears, sides, scalp and the jaw's far sides. The warp leaves them to the smooth flow
    that carries the hair: drawn by the mesh, a turned head would show them with the colours of the photo's face edge
    (a skin slab where the person has hair over the ears, the ear lobe in pieces on the jaw). The jaw within the
    oval, its underside and the neck below stay the mesh's: the jaw's motion is the mouth's."""
    from core.face.head import FACE_OVAL

    names = [m.name for m in head.materials]
    if "skin" not in names:
        return np.zeros(len(head.triangles), bool)
    h = load_head()
    points = h.at_points(head.vertices[: len(h.neutral)].astype(np.float64))
    oval = points[list(FACE_OVAL)]
    lo, hi = oval[:, :2].min(0) - 0.01, oval[:, :2].max(0) + 0.01
    cells = 512
    grid = np.zeros((cells, cells), np.uint8)
    to_cell = (cells - 1) / (hi - lo)
    cv2.fillPoly(grid, [np.round((oval[:, :2] - lo) * to_cell).astype(np.int32)], (1,))
    centres = head.vertices[head.triangles].mean(1).astype(np.float64)
    c = np.clip(np.round((centres[:, :2] - lo) * to_cell).astype(int), 0, cells - 1)
    inside = grid[c[:, 1], c[:, 0]].astype(bool) & (centres[:, 2] > oval[:, 2].min() - 0.005)
    above_mouth = centres[:, 1] > points[list(MOUTH[:2]), 1].mean()
    # below the mouth's corners, what lies beside the jaw (not under it) down to the chin's height: the photo saw it
    # edge-on, as the ear lobe, the neck's shadow or the wall, and a turn drew those as fragments on the jaw's side
    beside = _beside_jaw(points[list(JAW)], centres)
    above_chin = centres[:, 1] > points[152, 1]
    return (head.material == names.index("skin")) & ~inside & (above_mouth | (beside & above_chin))


def _beside_jaw(jaw: np.ndarray, at: np.ndarray) -> np.ndarray:
    """(N,) bool: which of the points ``at`` (N, 3) lie beside the jaw line ``jaw`` (its points, canonical metres) —
    nearest to where it runs upright by the jaw's corners, or past its ends — rather than under where it runs across
    (``UNDER_JAW_LEVEL``)."""
    line = jaw[np.argsort(jaw[:, 0]), :2]
    k, t, _, _, across = _nearest_on_line(line, at[:, :2])
    past = ((k == 0) & (t < 0)) | ((k == len(line) - 2) & (t > 1))
    return (across < UNDER_JAW_LEVEL) | past


def _nearest_on_line(line: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each point of ``at`` (N, 2) against the polyline ``line`` (M, 2): the index of its nearest segment, where
    along that segment its nearest point lies (unclipped: below 0 or above 1 past the segment's ends), that point
    (N, 2), the distance to it, and how level the segment runs (1: across, 0: upright)."""
    a, b = line[:-1], line[1:]
    seg = b - a
    t = ((at[:, None] - a) * seg).sum(-1) / np.maximum((seg**2).sum(-1), 1e-12)
    near = a + np.clip(t, 0.0, 1.0)[..., None] * seg
    dist = np.linalg.norm(at[:, None] - near, axis=-1)
    k = np.argmin(dist, axis=1)
    rows = np.arange(len(at))
    across = np.abs(seg[k, 0]) / np.maximum(np.linalg.norm(seg[k], axis=1), 1e-12)
    return k, t[rows, k], near[rows, k], dist[rows, k], across


def _feather(side: int) -> np.ndarray:
    """(side, side) weights: 1 inside, falling to 0 over the outer quarter, so the repaired crop has no seam."""
    ramp = np.clip(np.minimum(np.arange(side), np.arange(side)[::-1]) / max(1.0, side / 4), 0.0, 1.0)
    return (np.minimum(ramp[:, None], ramp[None, :]) ** 1.5).astype(np.float32)


def _shaded(colour: np.ndarray, shade: np.ndarray, tint: tuple[float, np.ndarray] | None = None) -> np.ndarray:
    """(N, 3) sRGB 0–1 colours darkened by ``shade`` (N,) in lightness alone, as 0–255: a mouth's shadow is
    dark red, not grey (darkening RGB would take the chroma with it); ``tint`` (share, a*, b*) moves their a*, b*
    that share of the way towards a colour's."""
    lab = np.asarray(cv2.cvtColor(colour.reshape(-1, 1, 3).astype(np.float32), cv2.COLOR_RGB2LAB), np.float32)
    lab[:, 0, 0] *= shade
    if tint is not None and tint[0] > 0:
        lab[:, 0, 1:] += tint[0] * (tint[1] - lab[:, 0, 1:])
    return np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), np.float32).reshape(-1, 3) * 255.0


def clean_plate(photo: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The person and the background behind them, from a photo (H, W, 3) uint8 and how surely each pixel is the
    person ``seen`` (H, W) 0–1: the person's mask (over ``PERSON_MIN``, grown by ``PERSON_MARGIN``, its edge softened
    by a pixel), float32; and the photo with the grown mask filled, float32 (H, W, 3) — what a head that moves
    uncovers. Each filled pixel takes the nearest background pixel in its own row, left or right (a shelf, a band of
    colour, a blind's slats run on behind the head, as indoor backgrounds mostly do; the nearest pixel in any
    direction drew them as wedges), or in any direction where its row has none (below the shoulders), softened by a
    pixel. A photo that is all person, or none, is its own plate."""
    h, w = seen.shape
    grow = max(1, int(round(PERSON_MARGIN * max(h, w))))
    hole = cv2.dilate((seen > PERSON_MIN).astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    mask = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), 1.0)
    plate = photo.astype(np.float32)
    if not hole.any() or hole.all():
        return mask, plate
    _, nearest = cv2.distanceTransformWithLabels(hole, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    ys, xs = np.nonzero(hole == 0)
    colour = np.zeros((int(nearest.max()) + 1, 3), np.float32)
    colour[nearest[ys, xs]] = plate[ys, xs]
    fill = colour[nearest]
    # along each row where the row has background on either side: shelves, blinds and bands run on behind the head
    cols = np.broadcast_to(np.arange(w), (h, w))
    left = np.maximum.accumulate(np.where(hole == 0, cols, -1), axis=1)
    right = np.minimum.accumulate(np.where(hole == 0, cols, w)[:, ::-1], axis=1)[:, ::-1]
    use_left = (left >= 0) & ((right >= w) | (cols - left <= right - cols))
    use_right = (right < w) & ~use_left
    rows = np.broadcast_to(np.arange(h)[:, None], (h, w))
    fill[use_left] = plate[rows[use_left], left[use_left]]
    fill[use_right] = plate[rows[use_right], right[use_right]]
    fill = cv2.GaussianBlur(fill, (0, 0), 1.0)
    return mask, np.where(hole[..., None] > 0, fill, plate)
