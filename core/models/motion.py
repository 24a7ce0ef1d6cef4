"""Φ, the head motion learner: reference motion + audio → 6-DoF head pose for new audio.

Rhythmic Head Motion §3.3 and appendix A.1: an encoder f reads a short reference (its head motion
h_1:τ and audio x_1:τ) and writes the weights and bias {W, b} of a linear layer; the extrapolator
encodes the driving audio with temporal convolutions and applies that dynamic layer at every frame;
a discriminator judges real against generated motion from the sequences' mean and standard
deviation. Parley's changes, each measured against the paper's form (``core/assets/MODEL_CARD_motion.md``):

- the output is scaled by the reference's per-axis standard deviation (``scale_by_reference``), so
  a calm speaker stays calm and an animated one moves more, which one training speaker cannot teach;
- the discriminator also sees the mean/std of the velocity (how fast the head moves, not only how far).

With no reference video, a default style is used: the mean {W, b} over the training references and
their median standard deviation, both stored in the checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.models.checkpoint import features_meta, load_module, save_checkpoint
from core.models.sampling import sample_at

KIND = "parley.head_motion"
MEL_RATE = 100.0
DOF = 6


@dataclass
class MotionConfig:
    """Architecture and training settings (saved inside the checkpoint)."""

    n_mels: int = 80
    hidden: int = 96
    audio_dim: int = 64
    scale_by_reference: bool = True
    velocity_stats: bool = True
    reference_frames: int = 50  # τ: 2 s at 25 fps
    # training
    epochs: int = 40
    batch_clips: int = 16
    lr: float = 1e-3
    adv_weight: float = 0.05
    seed: int = 0
    noise_snr_db: tuple[float, ...] = (6, 9, 12, 15, 18, 21, 24, 27, 30)


class _AudioEncoder(nn.Module):
    """Log-mel (B, F, M) → (B, T, A) at the frame times, ±1 s of context (dilated 1D convs at 25 Hz)."""

    def __init__(self, cfg: MotionConfig) -> None:
        super().__init__()
        h = cfg.hidden
        self.inp = nn.Sequential(nn.Conv1d(cfg.n_mels, h, 4, stride=4), nn.GELU())  # 25 Hz
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(h, h, 3, padding=d, dilation=d), nn.GELU(), nn.Conv1d(h, h, 1))
            for d in (1, 2, 4, 8)
        )
        self.out = nn.Conv1d(h, cfg.audio_dim, 1)

    def forward(self, mel: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        x = self.inp(mel.transpose(1, 2))
        for b in self.blocks:
            x = x + b(x)
        x = self.out(x)
        return sample_at(x, (times + 0.02) * MEL_RATE / 4)


class HeadMotionNet(nn.Module):
    """f (reference → {W, b}) and the extrapolator (driving audio → pose through {W, b})."""

    mel_mean: torch.Tensor
    mel_std: torch.Tensor
    pose_std: torch.Tensor
    default_wb: torch.Tensor
    default_std: torch.Tensor

    def __init__(self, cfg: MotionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.audio = _AudioEncoder(cfg)
        a, h = cfg.audio_dim, cfg.hidden
        self.ref = nn.Sequential(
            nn.Conv1d(a + DOF, h, 5, padding=2), nn.GELU(), nn.Conv1d(h, h, 5, padding=2), nn.GELU()
        )
        self.to_weights = nn.Sequential(nn.Linear(2 * h, h), nn.GELU(), nn.Linear(h, DOF * a + DOF))
        self.register_buffer("mel_mean", torch.zeros(cfg.n_mels))
        self.register_buffer("mel_std", torch.ones(cfg.n_mels))
        self.register_buffer("pose_std", torch.ones(DOF))  # training motion scale (normalises inputs)
        self.register_buffer("default_wb", torch.zeros(DOF * a + DOF))
        self.register_buffer("default_std", torch.ones(DOF))
        self.metrics: dict[str, object] = {}

    def encode_reference(self, mel: torch.Tensor, times: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        """Reference audio + zero-mean pose (B, τ, 6) → flattened {W, b} (B, 6·A + 6)."""
        a = self.audio((mel - self.mel_mean) / self.mel_std, times)
        x = torch.cat([a, pose / self.pose_std], dim=-1).transpose(1, 2)
        z = self.ref(x)
        return self.to_weights(torch.cat([z.mean(2), z.std(2)], dim=1))

    def extrapolate(
        self, mel: torch.Tensor, times: torch.Tensor, wb: torch.Tensor, ref_std: torch.Tensor
    ) -> torch.Tensor:
        """Driving audio through the dynamic layer → (B, T, 6) zero-mean head motion."""
        a = self.audio((mel - self.mel_mean) / self.mel_std, times)  # (B, T, A)
        w = wb[:, : DOF * self.cfg.audio_dim].reshape(-1, DOF, self.cfg.audio_dim)
        b = wb[:, DOF * self.cfg.audio_dim :]
        out = torch.einsum("bta,bda->btd", a, w) + b[:, None, :]
        scale = ref_std if self.cfg.scale_by_reference else self.pose_std.expand_as(ref_std)
        return out * scale[:, None, :]

    def save(self, path: str | Path, metrics: dict[str, object] | None = None) -> Path:
        return save_checkpoint(path, KIND, self.cfg, self.state_dict(), metrics, features_meta())

    @classmethod
    def load(cls, path: str | Path) -> HeadMotionNet:
        """Raises CheckpointError for a missing, non-safetensors or mismatched file."""
        return load_module(cls, MotionConfig, path, KIND)


class MeanStdDiscriminator(nn.Module):
    """The paper's discriminator: real/fake from a sequence's per-axis mean and std (and, here, its velocity's)."""

    def __init__(self, velocity_stats: bool = True, hidden: int = 64) -> None:
        super().__init__()
        self.velocity_stats = velocity_stats
        n = DOF * (4 if velocity_stats else 2)
        self.net = nn.Sequential(nn.Linear(n, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, pose: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        x = pose / scale
        feats = [x.mean(1), x.std(1)]
        if self.velocity_stats:
            v = x[:, 1:] - x[:, :-1]
            feats += [v.abs().mean(1), v.std(1)]
        return self.net(torch.cat(feats, dim=1))[:, 0]


@torch.no_grad()
def predict_motion(
    net: HeadMotionNet, mel: np.ndarray, n_frames: int, fps: float,
    reference: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> np.ndarray:
    """(T, 6) zero-mean head motion for a clip's log-mel (F, 80).

    Args:
        reference: (reference log-mel, reference pose (τ, 6), reference fps) from a video of the
            person, or None for the default style.
    """
    dev = net.default_wb.device
    times = (torch.arange(n_frames, dtype=torch.float32)[None] / fps).to(dev)
    if reference is None:
        wb, std = net.default_wb[None], net.default_std[None]
    else:
        rmel, rpose, rfps = reference
        rp = torch.from_numpy(rpose - rpose.mean(0)).float()[None].to(dev)
        rt = (torch.arange(len(rpose), dtype=torch.float32)[None] / rfps).to(dev)
        wb = net.encode_reference(torch.from_numpy(rmel).float()[None].to(dev), rt, rp)
        std = rp[0].std(0, correction=0)[None].clamp(min=1e-4)
    out = net.extrapolate(torch.from_numpy(mel).float()[None].to(dev), times, wb, std)[0].cpu().numpy()
    return (out - out.mean(0)).astype(np.float32)
