"""Adaptive smoothing (StableFace §III-C1, Table I) in landmark space, and the fixed Gaussian it is compared with.

A Conv1D stack (32, 32, 16, 16 channels, kernel 3, BatchNorm + ReLU) reads the lip and jaw
landmarks of every frame and predicts K sigmoid weights per frame; the smoothed shape of frame t is
the normalised weighted mean of frames t−K//2 … t+K//2. Because the average is linear, smoothing the
landmarks and smoothing the expression coefficients that generate them are the same operation; the
coefficients are what is smoothed, so shape keys and landmarks stay consistent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.metrics.regions import JAW, LIPS
from core.models.checkpoint import load_module, save_checkpoint

KIND = "parley.smoother"
POINTS = tuple(sorted(set(LIPS) | set(JAW)))


@dataclass
class SmootherConfig:
    width: int = 5  # K, odd
    epochs: int = 30
    lr: float = 3e-3
    batch_clips: int = 32
    acc_weight: float = 1.0
    seed: int = 0


class AdaptiveSmoother(nn.Module):
    """Table I of StableFace: per-frame smoothing weights over K neighbours from the face shapes."""

    scale: torch.Tensor

    def __init__(self, cfg: SmootherConfig) -> None:
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = []
        c_in = len(POINTS) * 3
        for c in (32, 32, 16, 16):
            layers += [nn.Conv1d(c_in, c, 3, padding=1), nn.BatchNorm1d(c), nn.ReLU()]
            c_in = c
        layers += [nn.Conv1d(c_in, cfg.width, 3, padding=1), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)
        self.register_buffer("scale", torch.tensor(1e-3))  # metres → network units
        self.metrics: dict[str, object] = {}

    def weights(self, shapes: torch.Tensor) -> torch.Tensor:
        """shapes (B, T, P·3) → normalised weights (B, T, K)."""
        w = self.net((shapes / self.scale).transpose(1, 2)).transpose(1, 2) + 1e-4
        return w / w.sum(-1, keepdim=True)

    def forward(self, coeffs: torch.Tensor, components: torch.Tensor) -> torch.Tensor:
        """Smooth (B, T, C) coefficients; ``components`` (C, 468·3) maps them to landmark displacements."""
        b, t, c = coeffs.shape
        disp = (coeffs @ components).reshape(b, t, -1, 3)[:, :, list(POINTS)].reshape(b, t, -1)
        w = self.weights(disp)
        return weighted_window(coeffs, w)

    def save(self, path: str | Path, metrics: dict[str, object] | None = None) -> Path:
        return save_checkpoint(path, KIND, self.cfg, self.state_dict(), metrics)

    @classmethod
    def load(cls, path: str | Path) -> AdaptiveSmoother:
        """Raises CheckpointError for a missing, non-safetensors or mismatched file."""
        return load_module(cls, SmootherConfig, path, KIND)


def weighted_window(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """out_t = Σ_k w[t, k] · x[t + k − K//2] with edge frames repeated; x (B, T, C), w (B, T, K)."""
    k = w.shape[-1]
    h = k // 2
    pad = torch.cat([x[:, :1].expand(-1, h, -1), x, x[:, -1:].expand(-1, h, -1)], dim=1)
    stack = torch.stack([pad[:, i : i + x.shape[1]] for i in range(k)], dim=2)  # (B, T, K, C)
    return (stack * w[..., None]).sum(2)


def gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Fixed Gaussian smoothing along time (edges repeated); sigma in frames, 0 = unchanged."""
    if sigma <= 0:
        return x.copy()
    h = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-h, h + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.concatenate([np.repeat(x[:1], h, 0), x, np.repeat(x[-1:], h, 0)])
    return np.stack([np.convolve(pad[:, i], k, mode="valid") for i in range(x.shape[1])], 1).astype(x.dtype)


@torch.no_grad()
def smooth_adaptive(net: AdaptiveSmoother, coeffs: np.ndarray, components: np.ndarray) -> np.ndarray:
    dev = next(net.parameters()).device
    comp = torch.from_numpy(components[: coeffs.shape[1]]).float().to(dev)
    return net(torch.from_numpy(coeffs)[None].float().to(dev), comp)[0].cpu().numpy().astype(np.float32)
