"""``parley train renderer``: the refiner's trainer, and the fine-tune on a person's own footage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.models.refiner import RefinerConfig, RefinerNet
from core.train.renderer import augment, loss_of, train_renderer
from tests.conftest import FIXTURE_VIDEO, ffmpeg


def _pairs(n: int, seed: int) -> dict[str, np.ndarray]:
    """Warped windows whose lower half is too dark by a fixed amount: a fault a refiner can learn to repair."""
    rng = np.random.default_rng(seed)
    real = rng.integers(60, 200, (n, 32, 32, 3)).astype(np.uint8)
    warped = real.copy()
    warped[:, 16:] = (warped[:, 16:] * 0.6).astype(np.uint8)
    mask = np.zeros((n, 32, 32), np.float32)
    mask[:, 16:] = 1.0
    return {"warped": warped, "mask": mask, "reference": real[::-1].copy(), "real": real}


def test_the_trainer_learns_a_repair_and_keeps_its_best_step(tmp_path: Path) -> None:
    cfg = RefinerConfig(channels=8, crop=32, steps=120, batch=8, lr=3e-3, colour=0.1, jitter=1.0)
    net, rep = train_renderer(tmp_path, tmp_path / "r.safetensors", cfg, train_pairs=_pairs(24, 0),
                              val_pairs=_pairs(8, 1))
    assert rep["val_l1_refined"] < 0.6 * rep["val_l1_warp"]  # the dark half is (mostly) repaired on unseen pairs
    assert rep["val_psnr_refined"] > rep["val_psnr_warp"] and rep["kept_step"] > 0
    again = RefinerNet.load(tmp_path / "r.safetensors")
    assert again.cfg == cfg


def test_augmentation_keeps_input_and_target_in_step() -> None:
    import torch

    pairs = _pairs(4, 2)
    x = tuple(torch.from_numpy(pairs[k].astype(np.float32) / 255).permute(0, 3, 1, 2) for k in ("warped",)) + (
        torch.from_numpy(pairs["mask"])[:, None],
        torch.from_numpy(pairs["reference"].astype(np.float32) / 255).permute(0, 3, 1, 2),
        torch.from_numpy(pairs["real"].astype(np.float32) / 255).permute(0, 3, 1, 2),
    )
    cfg = RefinerConfig(colour=0.2, jitter=0.0)
    w, m, r, y = augment(x, cfg, torch.Generator().manual_seed(0))
    # one gain for the input and its target: where the warp was right, they still agree
    assert torch.allclose(w[..., :16, :], y[..., :16, :], atol=1e-6) and not torch.allclose(y, x[3])
    assert float(loss_of(y, y, 0.5)) == 0.0 and float(loss_of(w, y, 0.5)) > 0.0


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GRID clip looped to 9 s: a person talking, long enough to fine-tune on."""
    out = tmp_path_factory.mktemp("person") / "talk.mp4"
    ffmpeg("-stream_loop", "2", "-i", str(FIXTURE_VIDEO), "-c", "copy", str(out))
    return out


def test_person_fine_tune_writes_a_personal_checkpoint(talk: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from core.cli import main

    out = tmp_path / "me.safetensors"
    assert main(["train", "renderer", "--person", str(talk), "--pairs", "12", "--epochs", "4", "--out", str(out)]) == 0
    net = RefinerNet.load(out)
    assert "talk.mp4" in net.cfg.data and net.cfg.steps == 4
    from core.models.checkpoint import read_checkpoint

    _, _, meta = read_checkpoint(out, "parley.refiner")
    assert "val_l1_refined" in meta["metrics"] and meta["data"] == "talk.mp4"
    capsys.readouterr()
    assert main(["train", "renderer", "--person", str(talk), "--promote", "--out", str(tmp_path / "x.pt")]) != 0
    assert "not Parley's to ship" in capsys.readouterr().err
    assert main(["train", "renderer", "--person", str(FIXTURE_VIDEO), "--out", str(tmp_path / "y.pt")]) != 0
    assert "at least 5 s" in capsys.readouterr().err and not (tmp_path / "y.pt").exists()
