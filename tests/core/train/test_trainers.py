"""The trainers on a few synthetic clips: they run, save configs in safetensors, resume, and validate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import ParleyError
from core.models.expression import ExpressionConfig, ExpressionNet
from core.models.motion import MotionConfig
from core.models.smoother import SmootherConfig
from core.train.common import state_path
from core.train.data import Clip
from core.train.expression import energy_baseline, train_expression
from core.train.motion import train_motion
from core.train.smoother import compare_smoothing, train_smoother
from tests.conftest import speechlike

COMPONENTS = np.linalg.qr(np.random.default_rng(0).normal(size=(1404, 20)))[0].T.astype(np.float32)


def synthetic_clip(i: int, speaker: str, split: str) -> Clip:
    audio = speechlike(3.0, seed=i)
    n = 75
    env = np.array([np.sqrt((audio[int(t / 25 * 16000) : int((t + 1) / 25 * 16000)] ** 2).mean()) for t in range(n)])
    coeffs = np.zeros((n, 20), np.float32)
    coeffs[:, 0] = env * 0.02
    base = np.random.default_rng(i).normal(size=(468, 3)).astype(np.float32) * 0.05
    lm = (base[None] + (coeffs @ COMPONENTS).reshape(n, 468, 3)).astype(np.float32)
    pose = (np.random.default_rng(i).normal(size=(n, 6)) * 0.01).astype(np.float32)
    from core.face.geometry import lip_gap, mouth_aperture

    return Clip(f"{speaker}_{i}", speaker, split, 25.0, audio, coeffs, np.zeros((n, 20), np.float32), pose,
                np.full((n, 2), 0.3, np.float32), mouth_aperture(lm), 0, base, np.zeros(20, np.float32),
                lip_gap(lm), lm)


@pytest.fixture(scope="module")
def split() -> dict[str, list[Clip]]:
    return {"train": [synthetic_clip(i, "s1", "train") for i in range(4)],
            "val_unseen": [synthetic_clip(10 + i, "s9", "val_unseen") for i in range(2)]}


def test_expression_trainer_saves_resumes_and_validates(split: dict[str, list[Clip]], tmp_path: Path) -> None:
    out = tmp_path / "psi.safetensors"
    cfg = ExpressionConfig(epochs=1, hidden=16, id_dim=4, batch_clips=2)
    net, rep = train_expression(split, COMPONENTS, out, cfg, progress=False)
    assert out.is_file() and state_path(out).is_file()
    assert net.cfg == cfg and rep["history"][0]["epoch"] == 1
    assert np.isfinite(rep["history"][0]["unseen_aperture_r_lag0"])
    cfg2 = ExpressionConfig(epochs=2, hidden=16, id_dim=4, batch_clips=2)
    with pytest.raises(ParleyError, match="1-epoch schedule"):
        train_expression(split, COMPONENTS, out, cfg2, progress=False)
    _, again = train_expression(split, COMPONENTS, out, cfg, progress=False)  # finished run: resumes at the end
    assert [h["epoch"] for h in again["history"]] == [1]
    _, fresh = train_expression(split, COMPONENTS, out, cfg2, resume=False, progress=False)
    assert [h["epoch"] for h in fresh["history"]] == [1, 2]
    assert ExpressionNet.load(out).metrics["epochs"] == 2
    assert energy_baseline(split["val_unseen"])["clips"] == 2


def test_motion_trainer_runs_and_sets_a_default_style(split: dict[str, list[Clip]], tmp_path: Path) -> None:
    cfg = MotionConfig(epochs=1, hidden=16, audio_dim=8, batch_clips=2, reference_frames=25)
    net, rep = train_motion(split, tmp_path / "phi.safetensors", cfg, progress=False)
    assert float(net.default_std.min()) > 0 and float(net.default_wb.abs().sum()) > 0
    assert {"unseen_rot_std_ratio", "unseen_speed_ratio"} <= set(rep["history"][0])


def test_smoother_trainer_and_comparison(split: dict[str, list[Clip]], tmp_path: Path) -> None:
    psi = ExpressionNet(ExpressionConfig(hidden=16, id_dim=4)).eval()
    net, _ = train_smoother(
        psi, split, COMPONENTS, tmp_path / "s.safetensors", SmootherConfig(epochs=1), progress=False
    )
    table = compare_smoothing(psi, net, split["val_unseen"], COMPONENTS)
    assert set(table) == {"none", "gaussian:1", "gaussian:2", "adaptive"}
    assert all(np.isfinite(v["lip_msi_ratio"]) for v in table.values())
