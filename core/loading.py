"""The shipped checkpoints, loaded once per process: Ψ (and the phonetic encoder it hears through), Φ, the blink
model, the landmark PCA, the neutral model and, when chosen, the smoother."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ParleyError

ASSETS = Path(__file__).resolve().parent / "assets"


@dataclass
class Models:
    """The shipped (or given) checkpoints, loaded once per process."""

    pca: Any
    expression: Any
    motion: Any
    blink: Any
    smoother: Any | None
    neutral: Any
    canonical: np.ndarray
    smoothing: str  # "adaptive" | "gaussian:σ" | "none"
    load_seconds: float = 0.0
    device: str = "cpu"  # where the networks run
    phonetic: Any | None = None  # the phonetic encoder, when Ψ hears phones

    def versions(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pca": {"kind": "parley.landmark_pca", "n_components": int(self.pca.n_components)}}
        out["expression"] = {"kind": "parley.expression", "variant": self.expression.cfg.variant,
                             "epochs": self.expression.metrics.get("epochs")}
        out["motion"] = {"kind": "parley.head_motion", "scale_by_reference": self.motion.cfg.scale_by_reference,
                         "epochs": self.motion.metrics.get("epochs")}
        out["blink"] = {"kind": "parley.blink", "rate_per_min": round(self.blink.config.rate_per_min, 2)}
        out["smoothing"] = self.smoothing
        out["device"] = self.device
        out["neutral"] = {"kind": "parley.neutral", "n_modes": self.neutral.config.n_modes}
        out["expression"]["inputs"] = self.expression.cfg.inputs
        if self.phonetic is not None:
            out["phonetic"] = {"kind": "parley.phonetic", "steps": self.phonetic.metrics.get("steps"),
                               "sha256": self.expression.cfg.phonetic_sha}
        return out


def load_models(assets: str | Path = ASSETS, smoothing: str | None = None, device: str = "cpu") -> Models:
    """Load Ψ, Φ, the blink model, the PCA and (if shipped and chosen) the smoother; the networks on ``device``
    ("cpu", "cuda", "cuda:N", or "auto": CUDA when torch sees a GPU).

    Raises:
        CheckpointError: a missing, unreadable or wrong-kind checkpoint (named in the message).
        ParleyError: a CUDA device asked for that torch cannot see.
    """
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ParleyError(f"device {device}: this torch build sees no CUDA device (torch {torch.__version__})")
    from core.face.canonical import canonical_face
    from core.face.neutral import NeutralModel
    from core.models.blink import BlinkModel
    from core.models.expression import ExpressionNet
    from core.models.motion import HeadMotionNet
    from core.models.pca import LandmarkPCA
    from core.models.smoother import AdaptiveSmoother

    t0 = time.perf_counter()
    a = Path(assets)
    choice = smoothing or _shipped_smoothing(a)
    smoother = AdaptiveSmoother.load(a / "smoother.safetensors") if choice == "adaptive" else None
    m = Models(LandmarkPCA.load(a / "landmark_pca.safetensors"), ExpressionNet.load(a / "expression.safetensors"),
               HeadMotionNet.load(a / "motion.safetensors"), BlinkModel.load(a / "blink.safetensors"), smoother,
               NeutralModel.load(a / "neutral.safetensors"), canonical_face(), choice, device=device)
    if m.expression.hears_phones:
        m.phonetic = _load_phonetic(a, m.expression.cfg.phonetic_sha)
    for net in (m.expression, m.motion, m.smoother, m.phonetic):
        if net is not None:
            net.to(device)
    m.load_seconds = time.perf_counter() - t0
    return m


def _load_phonetic(assets: Path, sha: str) -> Any:
    """The phonetic encoder Ψ was trained on (``phonetic.safetensors``), refused if it is another one.

    Raises:
        CheckpointError: missing, unreadable, or not the encoder this Ψ was trained to hear through.
    """
    from core.errors import CheckpointError
    from core.models.checkpoint import describe_checkpoint
    from core.models.phonetic import PhoneticNet

    f = assets / "phonetic.safetensors"
    net = PhoneticNet.load(f)
    got = describe_checkpoint(f)["sha256"]
    if sha and got != sha:
        raise CheckpointError(f"{f}: Ψ (expression.safetensors) was trained on the phonetic encoder {sha}, not on "
                              f"this one ({got}): ship the two together")
    return net


def _shipped_smoothing(assets: Path) -> str:
    """The smoothing the validation comparison chose (written by the smoother's model card step)."""
    f = assets / "smoothing.json"
    if f.is_file():
        return str(json.loads(f.read_text())["choice"])
    return "none"


@lru_cache(maxsize=2)
def default_models() -> Models:
    return load_models()
