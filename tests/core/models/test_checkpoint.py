from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from core.errors import CheckpointError
from core.models.checkpoint import config_from_dict, read_checkpoint, save_checkpoint


@dataclass
class Cfg:
    width: int = 3
    name: str = "x"
    snrs: tuple[float, ...] = (6.0, 9.0)


def test_config_and_metrics_travel_with_the_weights(tmp_path: Path) -> None:
    p = save_checkpoint(tmp_path / "m.safetensors", "parley.test", Cfg(5), {"w": torch.ones(2, 3)}, {"r": 0.7})
    cfg_d, tensors, meta = read_checkpoint(p, "parley.test")
    assert config_from_dict(Cfg, cfg_d) == Cfg(5)
    assert torch.equal(tensors["w"], torch.ones(2, 3))
    assert '"r": 0.7' in meta["metrics"]


def test_pickles_wrong_kinds_and_missing_files_are_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        read_checkpoint(evil, "parley.test")
    p = save_checkpoint(tmp_path / "m.safetensors", "parley.other", Cfg(), {"w": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="expected a parley.test checkpoint"):
        read_checkpoint(p, "parley.test")
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint(tmp_path / "nope.safetensors", "parley.test")


def test_unknown_config_keys_from_a_newer_version_are_ignored() -> None:
    assert config_from_dict(Cfg, {"width": 2, "added_later": 1, "snrs": [3.0]}) == Cfg(2, snrs=(3.0,))
