"""Result parsing and curve → keyframe arrays: the add-on's maths, with numpy only (no bpy, no torch).

Everything here runs without Blender, so it is unit-tested directly; the bpy modules only hand these
arrays to ``keyframe_points.foreach_set``.

Axes: Parley's canonical head frame has x to the viewer's right, y up, z towards the camera. Blender is
z-up with the camera looking along +y, so a canonical point (x, y, z) is Blender's (x, -z, y). A head
rotation given as XYZ Euler (rx, ry, rz) in the canonical frame is then exactly the Blender Euler
(rx, -rz, ry) in rotation mode ``XZY`` — no re-fitting of angles, no gimbal surprises.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Blender keeps shape-key sliders within this range.
SLIDER_LIMIT = 10.0
#: The result contract this add-on reads (``core/contract.py`` defines it; a test keeps this copy equal to it).
CONTRACT = "parley.result/1"
#: The keys every transferred result has, and the widths of its (T, width) curves.
REQUIRED = ("fps", "expression", "pose", "blink", "arkit", "meta")
WIDTHS = {"expression": 20, "pose": 6, "blink": 2, "arkit": 52}


class ResultError(Exception):
    """A result that does not follow Parley's contract (wrong shapes, non-finite values, wrong file)."""


@dataclass
class Motion:
    """One animation result, as the add-on needs it."""

    fps: float
    expression: np.ndarray  # (T, K) PCA coefficients
    pose: np.ndarray  # (T, 6) rx, ry, rz (rad, XYZ, canonical frame), tx, ty, tz (metres)
    blink: np.ndarray  # (T, 2) closure 0..1, right then left
    meta: dict[str, Any] = field(default_factory=dict)
    arkit: np.ndarray | None = None  # (T, 52) ARKit weights 0..1 (None from a server older than the full head)
    arkit_names: list[str] = field(default_factory=list)
    job: str = ""  # the server's job id (a photoreal render of this animation names it)

    @property
    def frames(self) -> int:
        return int(len(self.expression))


def parse_result(data: bytes) -> Motion:
    """Read a result NPZ (the server's ``?format=npz``) and check it against the contract.

    Raises:
        ResultError: not an NPZ, a key missing, mismatched lengths or a non-finite value.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            missing = [k for k in ("fps", "expression", "pose", "blink") if k not in z.files]
            if missing:
                raise ResultError(f"the result has no {', '.join(missing)} array")
            fps = float(z["fps"])
            expr, pose, blink = (np.asarray(z[k], dtype=np.float64) for k in ("expression", "pose", "blink"))
            arkit = np.asarray(z["arkit"], dtype=np.float64) if "arkit" in z.files else None
            meta_raw = str(z["meta"]) if "meta" in z.files else "{}"
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ResultError(f"the result is not a readable NPZ file ({exc})") from None
    if not (np.isfinite(fps) and fps > 0):
        raise ResultError(f"the result's fps is {fps}")
    t = len(expr)
    if expr.ndim != 2 or pose.shape != (t, 6) or blink.shape != (t, 2) or t == 0:
        raise ResultError(f"the result's curves have shapes {expr.shape}, {pose.shape}, {blink.shape}")
    for name, a in (("expression", expr), ("pose", pose), ("blink", blink)):
        if not np.isfinite(a).all():
            raise ResultError(f"the result's {name} curve has non-finite values")
    try:
        meta = json.loads(meta_raw)
    except ValueError:
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    kind, _, version = str(meta.get("contract", CONTRACT)).partition("/")
    if kind == "parley.result" and version.isdigit() and int(version) > int(CONTRACT.split("/")[1]):
        made = f"{kind}/{version}"
        raise ResultError(f"the result follows {made}, newer than this add-on's {CONTRACT}: update the add-on")
    names = [str(n) for n in meta.get("arkit_names", [])]
    if arkit is not None:
        if arkit.shape != (t, len(names)):
            raise ResultError(f"the result's arkit curves have shape {arkit.shape} for {len(names)} names")
        if not np.isfinite(arkit).all():
            raise ResultError("the result's arkit curve has non-finite values")
    return Motion(fps, expr, pose, blink, meta, arkit, names)


def scene_fps(fps: float) -> tuple[int, float]:
    """Blender's (fps, fps_base) for a frame rate: 29.97 → (30, 1.001), 23.976 → (24, 1.001), 25 → (25, 1.0)."""
    whole = round(fps)
    if abs(whole - fps) < 1e-6:
        return int(whole), 1.0
    ntsc = round(fps * 1.001)
    if abs(ntsc / 1.001 - fps) < 1e-3:
        return int(ntsc), 1.001
    return int(np.ceil(fps)), float(np.ceil(fps) / fps)


def keyframe_coords(values: np.ndarray, start: int = 1) -> np.ndarray:
    """(T,) values → the flat [frame, value, frame, value, …] array ``keyframe_points.foreach_set('co', …)`` wants."""
    values = np.asarray(values, dtype=np.float32)
    co = np.empty(2 * len(values), dtype=np.float32)
    co[0::2] = np.arange(start, start + len(values), dtype=np.float32)
    co[1::2] = values
    return co


def key_values(motion: Motion, scale: np.ndarray) -> np.ndarray:
    """(T, K) shape-key values: each expression coefficient divided by its key's scale (see the server's rig)."""
    k = len(scale)
    if motion.expression.shape[1] < k:
        raise ResultError(f"the result has {motion.expression.shape[1]} expression curves, the face has {k} keys")
    return motion.expression[:, :k] / np.asarray(scale, dtype=np.float64)


def slider_ranges(values: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """(K, 2) slider ranges covering both the data's span and these values (rounded out to 0.1, within ±10).

    A shape key's value is clamped to its slider range, so a range narrower than the curve would flatten it.
    """
    lo = np.minimum(np.asarray(ranges)[:, 0], values.min(axis=0))
    hi = np.maximum(np.asarray(ranges)[:, 1], values.max(axis=0))
    lo = np.floor(lo * 10 + 1e-6) / 10
    hi = np.ceil(hi * 10 - 1e-6) / 10
    return np.stack([np.clip(lo, -SLIDER_LIMIT, 0.0), np.clip(hi, 0.0, SLIDER_LIMIT)], axis=1)


def to_blender_points(points: np.ndarray) -> np.ndarray:
    """Canonical (x right, y up, z to camera) → Blender (x right, y away from camera, z up)."""
    p = np.asarray(points, dtype=np.float64)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)


def object_pose(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 6) canonical pose → (T, 3) Euler angles for rotation mode ``XZY`` and (T, 3) locations, Blender axes."""
    rx, ry, rz = pose[:, 0], pose[:, 1], pose[:, 2]
    euler = np.stack([rx, -rz, ry], axis=1)
    return euler, to_blender_points(pose[:, 3:6])


def rotation_matrices(pose: np.ndarray) -> np.ndarray:
    """(T, 3, 3) Blender-frame rotations of a canonical XYZ-Euler head pose (R = Ry(-rz) · Rz(ry) · Rx(rx))."""
    e, _ = object_pose(pose)
    ex, ey, ez = e[:, 0], e[:, 1], e[:, 2]
    t = len(e)

    def axis(angle: np.ndarray, i: int) -> np.ndarray:
        c, s = np.cos(angle), np.sin(angle)
        m = np.tile(np.eye(3), (t, 1, 1))
        j, k = [(1, 2), (2, 0), (0, 1)][i]
        m[:, j, j], m[:, j, k], m[:, k, j], m[:, k, k] = c, -s, s, c
        return m

    return axis(ey, 1) @ axis(ez, 2) @ axis(ex, 0)  # XZY: X first, then Z, then Y


def quaternions(matrices: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations → (T, 4) unit quaternions (w, x, y, z), signs kept continuous frame to frame."""
    m = matrices
    w = np.sqrt(np.maximum(0.0, 1 + m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2])) / 2
    x = np.sqrt(np.maximum(0.0, 1 + m[:, 0, 0] - m[:, 1, 1] - m[:, 2, 2])) / 2
    y = np.sqrt(np.maximum(0.0, 1 - m[:, 0, 0] + m[:, 1, 1] - m[:, 2, 2])) / 2
    z = np.sqrt(np.maximum(0.0, 1 - m[:, 0, 0] - m[:, 1, 1] + m[:, 2, 2])) / 2
    x = np.copysign(x, m[:, 2, 1] - m[:, 1, 2])
    y = np.copysign(y, m[:, 0, 2] - m[:, 2, 0])
    z = np.copysign(z, m[:, 1, 0] - m[:, 0, 1])
    q = np.stack([w, x, y, z], axis=1)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    flip = np.concatenate([[1.0], np.sign(np.sum(q[1:] * q[:-1], axis=1) + 1e-12)])
    return q * np.cumprod(flip)[:, None]


def bone_pose(pose: np.ndarray, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Head pose for a pose bone: ((T, 4) quaternions, (T, 3) locations) in the bone's own rest frame.

    ``rest`` is the bone's 3×3 rest orientation in armature space (``bone.matrix_local.to_3x3()``); the pose
    is expressed in armature space (the armature taken as z-up like the scene).
    """
    b = np.asarray(rest, dtype=np.float64)
    r = rotation_matrices(pose)
    local = b.T[None] @ r @ b[None]
    _, loc = object_pose(pose)
    return quaternions(local), loc @ b  # b.T @ v for each row v


#: Blender cuts ID names at 63 bytes (UTF-8).
MAX_NAME_BYTES = 63


def action_name(title: str, part: str) -> str:
    """``Parley <title> <part>`` within Blender's 63-byte names: the title is shortened (with an ellipsis), never the
    Face/Head suffix that tells the two actions apart."""
    head, tail = "Parley ", f" {part}"
    room = MAX_NAME_BYTES - len((head + tail).encode())
    t = title
    if len(t.encode()) > room:
        while t and len((t + "…").encode()) > room:
            t = t[:-1]
        t += "…"
    return head + t + tail
