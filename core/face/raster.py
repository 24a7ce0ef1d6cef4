"""A small triangle rasteriser in numpy: which triangle covers each pixel, and where (barycentric weights).

Used to bake textures (triangles laid out in UV space) and for visibility (triangles projected into a photo, the
nearest kept). Every pixel centre a triangle's bounding box holds is tested at once, so the cost is a few numpy
passes over about twice the covered area — a 1024² texture of the ICT face in ~0.2 s on one core.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Raster:
    triangle: np.ndarray  # (H, W) int32, −1 where no triangle covers the pixel
    bary: np.ndarray  # (H, W, 3) float32 barycentric weights of the pixel centre in its triangle

    def interpolate(self, values: np.ndarray) -> np.ndarray:
        """Per-vertex-of-triangle values (F, 3, C) → (H, W, C) at covered pixels (0 elsewhere)."""
        out = np.zeros((*self.triangle.shape, values.shape[-1]), np.float32)
        hit = self.triangle >= 0
        out[hit] = np.einsum("nk,nkc->nc", self.bary[hit], values[self.triangle[hit]])
        return out


def barycentric_of(xy: np.ndarray, triangle: np.ndarray) -> Raster:
    """The Raster of a known triangle-per-pixel map (H, W) over triangles (F, 3, 2): the weights recomputed."""
    out = np.zeros((*triangle.shape, 3), np.float32)
    py, px = np.nonzero(triangle >= 0)
    t = xy[triangle[py, px]].astype(np.float64)
    a, b, c = t[:, 0], t[:, 1], t[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    cx, cy = px + 0.5, py + 0.5
    w1 = ((cx - a[:, 0]) * (c[:, 1] - a[:, 1]) - (cy - a[:, 1]) * (c[:, 0] - a[:, 0])) / area
    w2 = ((b[:, 0] - a[:, 0]) * (cy - a[:, 1]) - (b[:, 1] - a[:, 1]) * (cx - a[:, 0])) / area
    out[py, px] = np.stack([1.0 - w1 - w2, w1, w2], axis=1)
    return Raster(triangle.astype(np.int32), out)


def rasterize(xy: np.ndarray, width: int, height: int, depth: np.ndarray | None = None) -> Raster:
    """Rasterise triangles (F, 3, 2) given in pixel coordinates (x right, y down; pixel centres at +0.5).

    With ``depth`` (F, 3), the triangle nearest (smallest depth) wins each pixel; without, the last one does
    (a UV layout has no overlaps).
    """
    xy = np.asarray(xy, np.float64)
    lo = np.floor(xy.min(axis=1) - 0.5).astype(np.int64)
    hi = np.ceil(xy.max(axis=1) - 0.5).astype(np.int64)
    lo = np.maximum(lo, 0)
    hi[:, 0] = np.minimum(hi[:, 0], width - 1)
    hi[:, 1] = np.minimum(hi[:, 1], height - 1)
    size = np.maximum(hi - lo + 1, 0)
    count = size[:, 0] * size[:, 1]
    tri = np.repeat(np.arange(len(xy)), count)
    start = np.cumsum(count) - count
    k = np.arange(int(count.sum())) - np.repeat(start, count)
    w = size[tri, 0]
    px = lo[tri, 0] + k % w
    py = lo[tri, 1] + k // w
    a, b, c = xy[tri, 0], xy[tri, 1], xy[tri, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    ok = np.abs(area) > 1e-12
    cx, cy = px + 0.5, py + 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        w1 = ((cx - a[:, 0]) * (c[:, 1] - a[:, 1]) - (cy - a[:, 1]) * (c[:, 0] - a[:, 0])) / area
        w2 = ((b[:, 0] - a[:, 0]) * (cy - a[:, 1]) - (b[:, 1] - a[:, 1]) * (cx - a[:, 0])) / area
    w0 = 1.0 - w1 - w2
    eps = -1e-6
    inside = ok & (w0 >= eps) & (w1 >= eps) & (w2 >= eps)
    tri, px, py = tri[inside], px[inside], py[inside]
    bary = np.stack([w0[inside], w1[inside], w2[inside]], axis=1)
    if depth is not None:
        z = (bary * np.asarray(depth, np.float64)[tri]).sum(1)
        order = np.argsort(-z, kind="stable")  # far first: the nearest is written last and wins
        tri, px, py, bary = tri[order], px[order], py[order], bary[order]
    triangle = np.full((height, width), -1, np.int32)
    out = np.zeros((height, width, 3), np.float32)
    triangle[py, px] = tri
    out[py, px] = bary
    return Raster(triangle, out)
