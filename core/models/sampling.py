"""Reading feature sequences at animation frame times, so the models work at any frame rate."""

from __future__ import annotations

import torch


def sample_at(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of x (B, C, L) at fractional positions pos (B, T), clamped to the ends → (B, T, C)."""
    pos = pos.clamp(0, x.shape[2] - 1)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=x.shape[2] - 1)
    a = (pos - lo)[:, None, :]
    gl = torch.gather(x, 2, lo[:, None, :].expand(-1, x.shape[1], -1))
    gh = torch.gather(x, 2, hi[:, None, :].expand(-1, x.shape[1], -1))
    return ((1 - a) * gl + a * gh).transpose(1, 2)
