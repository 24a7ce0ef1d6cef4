"""The result contract: what ``parley animate`` and ``parley batch`` write, the server's result routes return and the
Blender add-on, ``parley render`` and the review window read. Defined here once; version ``parley.result/1`` (meta
``contract``).

=========  ================  ===========================================================================
key        shape / type      meaning
=========  ================  ===========================================================================
fps        float             frames per second of every curve
expression (T, 20) float32   landmark-PCA coefficients relative to the face's rest (lips together)
pose       (T, 6) float32    head rotation rx, ry, rz (radians, XYZ Euler, head frame), translation tx, ty, tz (m)
blink      (T, 2) float32    right, left eyelid closure in [0, 1]
landmarks  (T, 468, 3) f32   the face's points (MediaPipe order) with expression and blinks, head pose not applied
arkit      (T, 52) float32   ARKit weights in [0, 1], Apple's order, names in meta ``arkit_names``
meta       JSON string       contract version, model versions, audio, face, seed, settings, notes, script
=========  ================  ===========================================================================

Frame t covers audio time [t/fps, (t+1)/fps); T = ceil(duration × fps); every value is finite. ``landmarks`` may be
left out of a transfer (the server's ``?landmarks=false``); every other key is always there.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ParleyError

CONTRACT = "parley.result/1"
N_POINTS = 468
#: key → (shape, with "T" for the frame count; dtype). ``fps`` and ``meta`` are scalars.
FIELDS: dict[str, tuple[tuple[int | str, ...], str]] = {
    "fps": ((), "float64"),
    "expression": (("T", 20), "float32"),
    "pose": (("T", 6), "float32"),
    "blink": (("T", 2), "float32"),
    "landmarks": (("T", N_POINTS, 3), "float32"),
    "arkit": (("T", 52), "float32"),
    "meta": ((), "json"),
}
CURVES = ("expression", "pose", "blink", "landmarks", "arkit")
OPTIONAL = frozenset({"landmarks"})


@dataclass
class AnimationResult:
    fps: float
    expression: np.ndarray
    pose: np.ndarray
    blink: np.ndarray
    landmarks: np.ndarray
    meta: dict[str, Any]
    arkit: np.ndarray  # (T, 52) float32 in [0, 1], Apple's order (meta "arkit_names")

    @property
    def frames(self) -> int:
        return len(self.expression)

    def save(self, path: str | Path) -> Path:
        """Write .npz (arrays, meta as a JSON string) or .json (lists)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".npz":
            arrays = {k: getattr(self, k) for k in CURVES}
            # uncompressed: float curves barely compress (−9 %) and compressing took twice as long as animating
            np.savez(path, fps=np.float64(self.fps), meta=np.str_(json.dumps(self.meta)), **arrays)
        elif path.suffix.lower() == ".json":
            path.write_text(json.dumps(self.to_json()))
        else:
            raise ParleyError(f"{path}: output must end in .npz or .json")
        return path

    def to_json(self, landmarks: bool = True) -> dict[str, Any]:
        """The contract as JSON: arrays as nested lists (7 decimals), meta as a JSON string."""
        r = lambda a: np.round(a.astype(np.float64), 7).tolist()  # noqa: E731
        out: dict[str, Any] = {"fps": self.fps}
        out.update({k: r(getattr(self, k)) for k in CURVES if landmarks or k != "landmarks"})
        out["meta"] = json.dumps(self.meta)
        return out


def check_contract(r: AnimationResult, duration: float) -> None:
    """Raise AssertionError if ``r`` breaks the result contract (shapes, dtype, range, finiteness, T)."""
    from core.audio.features import frame_count

    t = frame_count(duration, r.fps)
    for k in CURVES:
        shape, dtype = FIELDS[k]
        a = getattr(r, k)
        assert a.shape == tuple(t if d == "T" else d for d in shape) and a.dtype == np.dtype(dtype), (k, a.shape)
        assert np.isfinite(a).all(), k
    assert float(r.blink.min()) >= 0.0 and float(r.blink.max()) <= 1.0
    assert float(r.arkit.min()) >= 0.0 and float(r.arkit.max()) <= 1.0
    assert r.meta.get("arkit_names") is not None and len(r.meta["arkit_names"]) == 52
    assert r.meta.get("contract") == CONTRACT


def load_result(source: str | Path | bytes, need_landmarks: bool = False) -> AnimationResult:
    """A result NPZ (a path, or its bytes) read and checked against the contract. A result without landmarks (the
    server's ``?landmarks=false``) has an empty (0, 468, 3) array unless ``need_landmarks``.

    Raises:
        ParleyError: not an NPZ, a key missing, shapes that disagree, a non-finite value, or a result made before
            Parley wrote ARKit curves.
    """
    name = "the result" if isinstance(source, bytes) else str(source)
    try:
        with np.load(io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False) as z:
            files = set(z.files)
            if "arkit" not in files and {"expression", "pose"} <= files:
                raise ParleyError(f"{name}: this result has no ARKit curves (made by an older Parley): animate again")
            missing = [k for k in FIELDS if k not in files and (k not in OPTIONAL or need_landmarks)]
            if missing:
                raise ParleyError(f"{name}: not a Parley result (no {', '.join(missing)})")
            arrays = {k: np.asarray(z[k]) for k in CURVES if k in files}
            fps, meta_raw = float(z["fps"]), str(z["meta"])
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ParleyError(f"{name}: not a Parley result ({exc})") from None
    try:
        meta = json.loads(meta_raw)
    except ValueError:
        raise ParleyError(f"{name}: not a Parley result (its meta is not JSON)") from None
    if not isinstance(meta, dict):
        raise ParleyError(f"{name}: not a Parley result (its meta is not an object)")
    if not (np.isfinite(fps) and fps > 0):
        raise ParleyError(f"{name}: the result's fps is {fps}")
    t = len(arrays["expression"])
    arrays.setdefault("landmarks", np.zeros((0, N_POINTS, 3), np.float32))
    for k, a in arrays.items():
        want = tuple(t if d == "T" else d for d in FIELDS[k][0])
        if a.shape != want and not (k == "landmarks" and a.shape == (0, N_POINTS, 3)):
            raise ParleyError(f"{name}: the result's {k} has shape {a.shape}, not {want}")
        if not np.isfinite(a).all():
            raise ParleyError(f"{name}: the result's {k} has non-finite values")
    return AnimationResult(fps, meta=meta, **{k: a.astype(np.float32) for k, a in arrays.items()})
