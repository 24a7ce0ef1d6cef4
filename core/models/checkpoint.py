"""Safetensors checkpoints that carry their dataclass config, kind, version and metrics.

Every model Parley ships or trains is saved this way: the weights as tensors, the config (a
dataclass, as JSON) and the validation figures in the file's metadata, so a checkpoint always
says how it was made. Nothing is unpickled on load.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from core.errors import CheckpointError

C = TypeVar("C")
M = TypeVar("M", bound=torch.nn.Module)

#: Metadata every checkpoint saved inside ``recording(...)`` carries (the trainer's git commit, data hash).
_RECORD: dict[str, str] = {}


@contextmanager
def recording(meta: dict[str, str]) -> Iterator[None]:
    """Within the block, every saved checkpoint also records ``meta`` (``core.train.provenance.provenance``)."""
    old = dict(_RECORD)
    _RECORD.update(meta)
    try:
        yield
    finally:
        _RECORD.clear()
        _RECORD.update(old)


def features_meta() -> dict[str, str]:
    """The audio feature settings a model that reads ``model_features`` was trained with (checked at load)."""
    from core.audio.features import FeatureConfig

    return {"features": json.dumps(FeatureConfig().to_dict(), sort_keys=True)}


def save_checkpoint(
    path: str | Path,
    kind: str,
    config: Any,
    state: dict[str, torch.Tensor],
    metrics: dict[str, Any] | None = None,
    extra: dict[str, str] | None = None,
) -> Path:
    """Write ``state`` with ``config`` (a dataclass) and ``metrics`` as safetensors metadata."""
    if not is_dataclass(config) or isinstance(config, type):
        raise TypeError("config must be a dataclass instance")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"kind": kind, "config": json.dumps(asdict(config)), "metrics": json.dumps(metrics or {})}
    meta.update(_RECORD)
    meta.update(extra or {})
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    os.chmod(tmp, 0o644)
    tmp.replace(path)  # never leave a half-written checkpoint behind
    return path


def read_checkpoint(path: str | Path, kind: str) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, str]]:
    """(config dict, tensors, raw metadata) of a checkpoint of the given kind.

    Raises:
        CheckpointError: missing file, not safetensors (a pickle, say), or another kind of model.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint ({exc})") from exc
    if meta.get("kind") != kind:
        raise CheckpointError(f"{path}: expected a {kind} checkpoint, found kind={meta.get('kind')!r}")
    try:
        config = json.loads(meta["config"])
    except (KeyError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: checkpoint has no readable config") from exc
    return config, tensors, meta


def load_module(cls: type[M], config_cls: type, path: str | Path, kind: str) -> M:
    """Build ``cls(config)`` from a checkpoint of ``kind``, load its weights, set eval mode and ``metrics``.

    Raises:
        CheckpointError: missing, unreadable, another kind, or weights that do not fit the saved config.
    """
    cfg_d, tensors, meta = read_checkpoint(path, kind)
    if "features" in meta and meta["features"] != features_meta()["features"]:
        raise CheckpointError(f"{path}: trained on audio features {meta['features']}, but this code computes "
                              f"{features_meta()['features']}: retrain it, or use the code it was made "
                              "with")
    net = cls(config_from_dict(config_cls, cfg_d))  # type: ignore[call-arg]
    try:
        net.load_state_dict(tensors)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not match the saved config ({exc})") from exc
    net.eval()
    net.metrics = metrics_of(meta)  # type: ignore[assignment]
    return net


def config_from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Rebuild a dataclass config, ignoring keys a newer version added and keeping defaults for new ones."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names})


def describe_checkpoint(path: str | Path) -> dict[str, Any]:
    """What a checkpoint says about itself, without loading its weights: kind, config, metrics, file hash.

    Raises:
        CheckpointError: missing file or not safetensors.
    """
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint ({exc})") from exc
    made = {k: meta[k] for k in meta if k.startswith(("git_", "data")) or k == "features"}
    return {"kind": meta.get("kind", ""), "config": json.loads(meta.get("config", "{}")), "metrics": metrics_of(meta),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16], "provenance": made}


def metrics_of(meta: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(meta.get("metrics", "{}"))
    return out
