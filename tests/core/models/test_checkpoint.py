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


def test_checkpoints_record_how_they_were_made_and_refuse_other_features(tmp_path: Path) -> None:
    import json

    from safetensors.torch import load_file, save_file

    from core.errors import CheckpointError
    from core.models.checkpoint import describe_checkpoint, recording
    from core.models.expression import ExpressionConfig, ExpressionNet
    from core.train.provenance import provenance

    data = tmp_path / "data"
    data.mkdir()
    (data / "manifest.json").write_text('{"clips": []}')
    path = tmp_path / "psi.safetensors"
    with recording(provenance(data)):
        ExpressionNet(ExpressionConfig(hidden=16, id_dim=4)).save(path)
    made = describe_checkpoint(path)["provenance"]
    assert made["data"] == "data" and len(made["data_manifest_sha256"]) == 16 and made["git_commit"]
    assert json.loads(made["features"])["n_mels"] == 80 and json.loads(made["features"])["hop_length"] == 160
    ExpressionNet.load(path)
    # the same weights claiming other features (another hop) are refused with both settings named
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata())
    feats = json.loads(meta["features"])
    feats["hop_length"] = 256
    meta["features"] = json.dumps(feats, sort_keys=True)
    save_file(load_file(str(path)), str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="trained on audio features"):
        ExpressionNet.load(path)
