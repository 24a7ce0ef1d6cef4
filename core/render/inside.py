"""The rendered mouth's inside matched to what a face video shows of this person's (issue 22).

A face video's most open frames show how this person's open mouth looks in its light: its mean colour and how much
of it is teeth (``core.metrics.mouth``). The head's mouth — the ICT head's teeth, tongue, gums and socket in the
warp's cheap shadow — shows teeth where the head's teeth sit behind its lips, not where the person's do: where an
upper lip hides the teeth, or the mouth is deep in shadow, the video shows none while the head bares a fifth to a
third of the opening in teeth, and the inside's mean is far too light however well the tongue is coloured.

So the warp re-draws the video's open frames (each one's expression fitted to its landmarks, at the photo's pose)
and matches what it draws to what the video shows, as ``scripts/fit_mouth_colours.py`` fits the renderer's shared
offset over many talkers, but for this person:

1. **teeth**: where the head shows more teeth than the video, its teeth are dimmed (L* and chroma scaled) until only the
   video's share of the inside stays bright enough to read as teeth — teeth in shadow, not removed; where the video
   shows none, they also take the hue of what it shows inside (a tooth deep in shadow is lit by what the tongue and
   gums reflect: left grey, it dragged the inside's mean grey, and the tongue was pushed redder to make up for it);
2. **the rest**: the tongue-and-gums and socket colours shift in CIELAB so that what the warp draws there that does
   not read as teeth (the tongue, the dimmed teeth, the lips' edge) has the mean of what does not in the video.

``ROUNDS`` of draw → solve (sRGB's gamut clips dark saturated colours, so one solve falls short), then one last
draw measures what is left; the colours of the round whose inside comes closest to the video's mean are kept (at
worst the head's own, unmatched).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.errors import ParleyError
from core.face.mouth import image_lab, open_lab, to_lab, to_rgb
from core.metrics.mouth import TEETH_L, delta_e, inside_mask, teeth_pixels
from core.render.warp import Stage, WarpRenderer

ROUNDS = 2
#: The teeth are never dimmed below this share of their lit L* (a mouth in deep shadow still has teeth in it).
MIN_DIM = 0.3
#: A round moves the tongue and gums at most this many times the gap it closes: where they are a sliver of the
#: drawn inside (a small, barely open mouth), what they would need is a guess, not a measurement.
MAX_GAIN = 3.0
#: One round moves the tongue's and gums' a*, b* at most this far (the inside's mean is mostly lips' edge and teeth
#: where little of them is drawn: their hue is not pushed off the chart to make up for it).
MAX_AB_SHIFT = 20.0
#: The drawn material's L* stays within these bounds.
L_RANGE = (2.0, 95.0)
#: The tongue's and gums' lit L* stays below this: they never read as teeth (``core.metrics.mouth``'s L* 60), however
#: light the video's inside is where few of their pixels are drawn (a small mouth is mostly the lips' edge).
REST_L_MAX = 52.0
#: The tongue's and gums' a*, b* stay within these bounds: red to brown, never green or blue.
AB_RANGE = (0.0, 45.0)
#: Too few drawn pixels of the tongue, gums and socket to solve for: the colours are left as they are.
MIN_REST_PIXELS = 30
#: Fewer inside pixels than this per view on average: too little seen to match.
MIN_PIXELS = 12
#: The views are re-drawn at most this size (long side): shares and means do not need more.
SIZE = 512


@dataclass
class InsideMatch:
    """How the drawn inside compares with the video's over its open frames: CIELAB dE and teeth share, before and
    after the match, and the teeth's dimming (1: unchanged)."""

    views: int
    seen_teeth: float
    before_de: float
    before_teeth: float
    after_de: float
    after_teeth: float
    teeth_dim: float


def view_arkit(views: Sequence[tuple[np.ndarray, np.ndarray]], identity: np.ndarray) -> list[np.ndarray]:
    """The ARKit weights (52,) of each view's face (its image landmarks, pose removed) on the person's identity."""
    from core.face.canonical import canonical_face
    from core.face.geometry import disentangle
    from core.face.ict import fit_head, load_head
    from core.face.tracker import to_camera_frame

    canonical, head = canonical_face(), load_head()
    return [fit_head(disentangle(to_camera_frame(np.asarray(lm, np.float32))[None], canonical)
                     .expression_landmarks[0], head, identity=identity).arkit for _, lm in views]


def match_inside(stage: Stage, views: Sequence[tuple[np.ndarray, np.ndarray]], identity: np.ndarray,
                 rounds: int = ROUNDS) -> InsideMatch | None:
    """Match the stage head's teeth, tongue-and-gums and socket colours (in place) to the inside ``views`` show —
    (RGB, image landmarks) of a face video's most open mouths — drawn by the warp at each view's expression on
    ``identity`` (the person's ICT identity). None where the views show too little inside, or the head has no
    mouth materials: nothing is changed."""
    seen = open_lab(views)
    names = [m.name for m in stage.head.materials]
    if len(seen) < MIN_PIXELS * max(1, len(views)) or not all(
            n in names for n in ("teeth", "gums_tongue", "mouth_socket")):
        return None
    seen_teeth = teeth_pixels(seen)
    seen_mean, seen_share, seen_rest = seen.mean(0), float(seen_teeth.mean()), seen[~seen_teeth].mean(0)
    teeth, gums, socket = (names.index(n) for n in ("teeth", "gums_tongue", "mouth_socket"))
    renderer = WarpRenderer(stage, min(SIZE, max(stage.rgb.shape[:2])))
    arkits = view_arkit(views, identity)
    parts = (teeth, gums, socket)
    tried: list[tuple[float, float, float, list[tuple[float, float, float]]]] = []  # dE, teeth, dim, colours
    dim = 1.0
    for k in range(rounds + 1):
        lab, part = _drawn(renderer, arkits)
        if len(lab) == 0:
            return None
        bright = teeth_pixels(lab)
        tried.append((delta_e(lab.mean(0), seen_mean), float(bright.mean()), dim,
                      [stage.head.materials[i].colour for i in parts]))
        if k == rounds:
            break
        # 1. the teeth: dimmed until only the video's share of the inside reads as teeth; where the video shows
        # none, as dark as the rest of its inside (teeth deep in the mouth's shadow)
        is_teeth = part == teeth
        keep = max(0, int(round(seen_share * len(lab))) - int((bright & ~is_teeth).sum()))
        lit = np.sort(lab[bright & is_teeth, 0])[::-1]
        if len(lit) > keep:
            step = (TEETH_L - 0.01) / float(lit[keep])
            if keep == 0:
                step = min(step, float(seen_rest[0]) / max(float(lab[is_teeth, 0].mean()), 1e-3))
            step = max(step, MIN_DIM / dim)
            dim *= step
            _dim(stage, teeth, step)
            lab[is_teeth] *= step
            if keep == 0:  # none shown: teeth deep in the mouth's shadow, lit by what the tongue and gums reflect
                lab[is_teeth, 1:] = _hue(stage, teeth, seen_rest[1:])
        # 2. the rest: one Lab shift of the tongue, gums and socket brings what does not read as teeth to the mean
        # of what does not in the video (each class to its own: a head that bares fewer teeth than the person does
        # not get a pale tongue to make up the mean)
        dark = ~teeth_pixels(lab)
        rest = dark & ((part == gums) | (part == socket))
        if rest.sum() < MIN_REST_PIXELS:
            continue
        material_l = np.array([to_lab(np.asarray(m.colour))[0, 0] for m in stage.head.materials])
        shade = lab[rest, 0] / np.maximum(material_l[part[rest]], 1e-3)
        gap = seen_rest - lab[dark].mean(0)
        shift = np.array([gap[0] * min(dark.sum() / max(float(shade.sum()), 1e-3), MAX_GAIN),
                          *np.clip(gap[1:] * min(dark.sum() / rest.sum(), MAX_GAIN), -MAX_AB_SHIFT, MAX_AB_SHIFT)])
        for i in (gums, socket):
            _shift(stage, i, shift)
    best = min(range(len(tried)), key=lambda i: tried[i][0])  # never worse at the views than the head was
    for i, colour in zip(parts, tried[best][3], strict=True):
        stage.head.materials[i].colour = colour
    return InsideMatch(len(views), seen_share, tried[0][0], tried[0][1], tried[best][0], tried[best][1],
                       tried[best][2])


def _drawn(renderer: WarpRenderer, arkits: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) CIELAB and (N,) material (-1: not the head's inside, e.g. the lips' edge) of the inside pixels of each
    expression drawn at the photo's pose, the inside read inside the lip ring the tracker finds on the drawn frame
    (``core.metrics.mouth``, as on the video's), or the head's own where it finds none."""
    from core.face.tracker import track_image

    labs, parts = [], []
    still = np.zeros(6, np.float32)
    for arkit in arkits:
        img = renderer.frame(arkit, still)
        try:  # read as the video's frames were: by the tracker's lip ring
            ring = track_image(img).landmarks
        except ParleyError:  # the tracker misses it: the head's own ring
            ring = renderer.landmarks
        mask = inside_mask(img.shape, ring)
        labs.append(image_lab(img)[mask])
        parts.append(renderer.inner_part[mask])
    return np.concatenate(labs).astype(np.float64), np.concatenate(parts)


def _dim(stage: Stage, index: int, factor: float) -> None:
    """Scale a material's L* and chroma by ``factor``: in shadow, not repainted (a dimmed yellowish tooth stays
    as greyish as a lit one, not brown)."""
    m = stage.head.materials[index]
    lab = to_lab(np.asarray(m.colour))[0] * factor
    lab[0] = np.clip(lab[0], *L_RANGE)
    m.colour = to_rgb(lab)


def _hue(stage: Stage, index: int, ab: np.ndarray) -> np.ndarray:
    """Give a material the a*, b* ``ab`` (within ``AB_RANGE``), its L* kept; returns the a*, b* given."""
    m = stage.head.materials[index]
    lab = to_lab(np.asarray(m.colour))[0].astype(np.float64)
    lab[1:] = np.clip(ab, *AB_RANGE)
    m.colour = to_rgb(lab)
    return lab[1:]


def _shift(stage: Stage, index: int, shift: np.ndarray) -> None:
    m = stage.head.materials[index]
    lab = to_lab(np.asarray(m.colour))[0].astype(np.float64) + shift
    lab[0] = np.clip(lab[0], L_RANGE[0], REST_L_MAX)
    lab[1:] = np.clip(lab[1:], *AB_RANGE)
    m.colour = to_rgb(lab)
