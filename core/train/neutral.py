"""``parley train neutral``: fit the rest estimator (``core.face.neutral``) and measure it on unseen speakers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from core.data.manifest import manifest_clips
from core.data.splits import REST_SPEAKERS, TRAIN_SPEAKERS, split_of
from core.errors import ParleyError
from core.face.canonical import canonical_face
from core.face.geometry import mouth_aperture
from core.face.neutral import NeutralConfig, NeutralModel, clip_rest, fit_neutral
from core.metrics.regions import JAW, LIPS
from core.models.pca import LandmarkPCA


def _clips(data_dir: Path) -> list[tuple[str, str, np.ndarray]]:
    out = []
    for c in manifest_clips(data_dir):
        with np.load(data_dir / c["file"]) as z:
            out.append((c["key"], c["speaker"], z["landmarks"].astype(np.float32)))
    return out


def rest_errors(model: NeutralModel, clips: list[np.ndarray], canonical: np.ndarray) -> dict[str, float]:
    """Lips-and-jaw error (mm) of the rest estimated from every frame, against the clip's rest; and the same with
    no estimate (the frame itself as the rest). Medians over frames; also the estimated rests' lip aperture."""
    est, raw, ap = [], [], []
    idx = list(LIPS + JAW)
    for lm in clips:
        truth = clip_rest(lm, model.config.closed_quantile)
        rest, _ = model.estimate(lm, canonical)
        est.append(np.linalg.norm(rest[:, idx] - truth[idx], axis=-1).mean(axis=1) * 1000)
        raw.append(np.linalg.norm(lm[:, idx] - truth[idx], axis=-1).mean(axis=1) * 1000)
        ap.append(mouth_aperture(rest))
    e, r, a = np.concatenate(est), np.concatenate(raw), np.concatenate(ap)
    return {"mouth_mm_estimated": float(np.median(e)), "mouth_mm_frame_as_rest": float(np.median(r)),
            "mouth_mm_estimated_p90": float(np.percentile(e, 90)),
            "mouth_mm_frame_as_rest_p90": float(np.percentile(r, 90)),
            "rest_aperture_median": float(np.median(a)), "rest_aperture_p95": float(np.percentile(a, 95)),
            "frames": float(len(e))}


def train_neutral(data_dir: Path, pca_path: Path, out: Path, cfg: NeutralConfig | None = None) -> dict[str, Any]:
    """Fit on the training clips (expression) and ``REST_SPEAKERS`` (identity); validate on the other speakers."""
    cfg = cfg or NeutralConfig()
    pca = LandmarkPCA.load(pca_path)
    canonical = canonical_face()
    clips = _clips(data_dir)
    train = [lm for key, spk, lm in clips if split_of(key, spk) == "train"]
    rests: dict[str, list[np.ndarray]] = {}
    for key, spk, lm in clips:
        if spk in REST_SPEAKERS and (spk not in TRAIN_SPEAKERS or split_of(key, spk) == "train"):
            rests.setdefault(spk, []).append(clip_rest(lm, cfg.closed_quantile))
    if not train or len(rests) < 2:
        raise ParleyError(f"{data_dir}: needs training clips and at least two of the speakers {REST_SPEAKERS}")
    cfg.data = f"GRID (CC BY 4.0): expression from {len(train)} training clips; identity from {len(rests)} speakers"
    model = fit_neutral(train, rests, pca.components, canonical, cfg)
    held = [(spk, lm) for key, spk, lm in clips if spk not in REST_SPEAKERS]
    groups = {"s4": [lm for s, lm in held if s == "s4"], "small": [lm for s, lm in held if s != "s4"]}
    model.metrics = {g: rest_errors(model, c, canonical) for g, c in groups.items() if c}
    model.metrics["gain"] = [round(float(g), 3) for g in model.gain]
    model.save(out)
    return {"config": cfg.__dict__, "metrics": model.metrics}
