"""What every trainer shares: seeding, devices, resumable state, progress bars."""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.errors import ParleyError

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> np.random.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def pick_device(name: str) -> torch.device:
    """'cpu' (default), 'cuda' or 'cuda:N'; a clear error when CUDA is asked for and absent."""
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ParleyError(f"--device {name}: this torch build sees no CUDA device (torch {torch.__version__})")
    return torch.device(name)


def state_path(out: Path) -> Path:
    """Where a run's resumable state lives, next to its checkpoint."""
    return out.with_name(out.stem + ".state.pt")


def save_state(
    out: Path, epoch: int, model: torch.nn.Module, opt: torch.optim.Optimizer, extra: dict[str, Any]
) -> None:
    """Model, optimiser and RNG state after ``epoch`` (tensors and plain types only: loads with weights_only)."""
    p = state_path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = {"epoch": epoch, "model": model.state_dict(), "opt": opt.state_dict(),
               "torch_rng": torch.get_rng_state(), **extra}
    tmp = p.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(p)


def load_state(out: Path, model: torch.nn.Module, opt: torch.optim.Optimizer) -> dict[str, Any] | None:
    """Resume from ``save_state``'s file if there is one; None otherwise."""
    p = state_path(out)
    if not p.is_file():
        return None
    try:
        payload: dict[str, Any] = torch.load(p, map_location="cpu", weights_only=True)
        model.load_state_dict(payload["model"])
        opt.load_state_dict(payload["opt"])
        torch.set_rng_state(payload["torch_rng"])
    except Exception as exc:  # a stale or foreign state file must not crash training, nor be silently used
        raise ParleyError(f"{p}: cannot resume from this state ({exc}); delete it to start afresh") from exc
    log.info("resuming after epoch %d from %s", payload["epoch"], p)
    return payload
