"""``parley eval``: compare a predicted result with the truth; print a table, write PNG plots."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ParleyError
from core.face.geometry import mouth_aperture
from core.metrics.landmarks import lmd, msi_jaw, msi_lips, normalised_lmd
from core.metrics.motion import blink_rate, head_motion_stats
from core.metrics.sync import sync_scores


@dataclass
class Motion:
    """A landmark sequence with its head pose, from a result file or tracked footage."""

    landmarks: np.ndarray  # (T, 468, 3) canonical head frame
    pose: np.ndarray  # (T, 6)
    fps: float
    name: str


def load_motion(path: str | Path) -> Motion:
    """Read a result NPZ (the contract), a prepared clip NPZ, or track a video.

    Raises:
        ParleyError: unreadable or incomplete file.
    """
    path = Path(path)
    if not path.is_file():
        raise ParleyError(f"{path}: no such file")
    if path.suffix.lower() == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = {"landmarks", "pose", "fps"} - set(z.files)
                if missing:
                    raise ParleyError(f"{path}: not a Parley result (missing {', '.join(sorted(missing))})")
                return Motion(
                    z["landmarks"].astype(np.float32), z["pose"].astype(np.float32), float(z["fps"]), path.name
                )
        except (OSError, ValueError) as exc:
            raise ParleyError(f"{path}: not a readable NPZ ({exc})") from exc
    from core.data.filters import parley_filter
    from core.face.canonical import canonical_face
    from core.face.tracker import to_camera_frame, track_video

    track = track_video(path)
    parts = parley_filter(to_camera_frame(track.landmarks), canonical_face())
    return Motion(parts.expression_landmarks, parts.pose, track.fps, path.name)


def evaluate(pred: Motion, truth: Motion) -> dict[str, float]:
    """All figures comparing ``pred`` with ``truth`` (trimmed to the shorter; fps must match)."""
    if abs(pred.fps - truth.fps) > 1e-3:
        raise ParleyError(f"frame rates differ: prediction {pred.fps} fps, truth {truth.fps} fps")
    n = min(len(pred.landmarks), len(truth.landmarks))
    if n < 4:
        raise ParleyError(f"too short to compare ({n} frames)")
    p, t = pred.landmarks[:n], truth.landmarks[:n]
    s = sync_scores(mouth_aperture(p), mouth_aperture(t))
    hp, ht = head_motion_stats(pred.pose[:n], pred.fps), head_motion_stats(truth.pose[:n], truth.fps)
    return {
        "frames": float(n),
        "aperture_r_lag0": s.r_lag0,
        "aperture_best_lag": float(s.best_lag),
        "aperture_r_best": s.r_best,
        "aperture_amplitude_ratio": s.amplitude_ratio,
        "lmd_mouth": lmd(p, t),
        "nlmd_mouth": normalised_lmd(p, t),
        "msi_lips_pred": msi_lips(p),
        "msi_lips_truth": msi_lips(t),
        "msi_jaw_pred": msi_jaw(p),
        "msi_jaw_truth": msi_jaw(t),
        "head_speed_mean_pred": hp.mean,
        "head_speed_mean_truth": ht.mean,
        "head_speed_p95_pred": hp.p95,
        "head_speed_p95_truth": ht.p95,
        "blinks_per_min_pred": blink_rate(p, pred.fps),
        "blinks_per_min_truth": blink_rate(t, truth.fps),
    }


def format_table(scores: dict[str, float]) -> str:
    """A plain two-column table for the terminal."""
    width = max(len(k) for k in scores)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  ----------"]
    lines += [f"{k:<{width}}  {v:10.4f}" for k, v in scores.items()]
    return "\n".join(lines)


def write_plots(pred: Motion, truth: Motion, scores: dict[str, float], out_dir: Path) -> list[Path]:
    """aperture.png (prediction vs truth over time) and msi.png (MSI bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    n = int(scores["frames"])
    t = np.arange(n) / pred.fps
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.plot(t, mouth_aperture(truth.landmarks[:n]), label=f"truth ({truth.name})", color="black", lw=1.5)
    ax.plot(t, mouth_aperture(pred.landmarks[:n]), label=f"prediction ({pred.name})", color="tab:orange", lw=1.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mouth aperture |13−14| / |33−263|")
    ax.set_title(f"r = {scores['aperture_r_lag0']:.3f} at lag 0, best lag {scores['aperture_best_lag']:+.0f} frames")
    ax.legend(loc="upper right")
    fig.tight_layout()
    a = out_dir / "aperture.png"
    fig.savefig(a, dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    x = np.arange(2)
    ax.bar(x - 0.2, [scores["msi_lips_truth"], scores["msi_jaw_truth"]], 0.4, label="truth", color="black")
    ax.bar(x + 0.2, [scores["msi_lips_pred"], scores["msi_jaw_pred"]], 0.4, label="prediction", color="tab:orange")
    ax.set_xticks(x, ["lips", "jaw"])
    ax.set_ylabel("MSI (higher = steadier)")
    ax.legend()
    fig.tight_layout()
    m = out_dir / "msi.png"
    fig.savefig(m, dpi=110)
    plt.close(fig)
    (out_dir / "scores.json").write_text(json.dumps(scores, indent=1))
    return [a, m]
