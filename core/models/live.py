"""Ψ-live, the causal sibling of Ψ: audio up to a frame's start plus a small look-ahead → that frame's 20 expression
coefficients and 6 head-pose values, one frame at a time.

It reads the log-mel at 100 Hz through causal dilated convolutions (``receptive_frames`` of the past, nothing after
the last mel frame it is given) and is trained by ``parley train live`` to reproduce what the offline pipeline
(phonetic encoder → Ψ → smoothing → lip range and closures; Φ → head style) produces for the same voice, with the
whole clip in view: every non-causal step of ``parley animate`` is learnt, not re-implemented. Output j, read after
mel frame j, describes the frame that started ``lookahead_s`` earlier; the look-ahead is the latency/quality knob
(``MODEL_CARD_live.md``).

The mel is normalised causally (``running_normalise``): each band's running mean over the loud frames heard so far,
starting from a prior, so a microphone's colour and gain are removed as the offline model's per-utterance mean does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.models.checkpoint import features_meta, load_module, save_checkpoint

KIND = "parley.live"
MEL_RATE = 100.0


@dataclass
class LiveConfig:
    """Architecture and training settings (saved inside the checkpoint)."""

    n_mels: int = 80
    n_coeffs: int = 20
    n_pose: int = 6
    hidden: int = 96
    id_dim: int = 16
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1)
    dropout: float = 0.05
    lookahead_s: float = 0.06  # audio read after the frame's start (the teacher itself centres on +0.04 s)
    prior_frames: float = 100.0  # weight of the prior mean in ``running_normalise`` (1 s of loud frames)
    # training
    epochs: int = 24
    batch: int = 16
    crop_s: float = 4.0
    lr: float = 2e-3
    weight_decay: float = 1e-4
    velocity_weight: float = 1.0
    pose_weight: float = 0.3
    open_weight: float = 2.0  # extra weight on the mouth opening (the coefficients' projection on the opening)
    noise_every: int = 3  # epochs between fresh noise draws (drawing is a third of an epoch's time)
    noise_prob: float = 0.6
    seed: int = 0

    @property
    def receptive_frames(self) -> int:
        """Mel frames the newest output depends on (itself included)."""
        return 1 + 2 * 2 + sum(2 * d for d in self.dilations)

    @property
    def lookahead_frames(self) -> int:
        return int(round(self.lookahead_s * MEL_RATE))


class _Causal(nn.Module):
    """A 1D convolution that sees only the present and the past (left padding)."""

    def __init__(self, cin: int, cout: int, k: int, dilation: int = 1) -> None:
        super().__init__()
        self.pad = (k - 1) * dilation
        self.conv = nn.Conv1d(cin, cout, k, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.pad(x, (self.pad, 0)))


class LiveNet(nn.Module):
    """(normalised log-mel (B, F, 80), identity feature (B, 20)) → (B, F, 20 + 6): output j after mel frame j."""

    mel_mean: torch.Tensor
    mel_std: torch.Tensor
    id_mean: torch.Tensor
    id_std: torch.Tensor
    out_std: torch.Tensor
    prior: torch.Tensor

    def __init__(self, cfg: LiveConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.inp = nn.Sequential(_Causal(cfg.n_mels, h, 5), nn.GELU())
        self.blocks = nn.ModuleList(
            nn.Sequential(_Causal(h, h, 3, d), nn.GELU(), nn.Dropout(cfg.dropout), nn.Conv1d(h, h, 1))
            for d in cfg.dilations
        )
        self.identity = nn.Linear(cfg.n_coeffs, h)
        self.head = nn.Sequential(nn.Conv1d(h, h, 1), nn.GELU(), nn.Conv1d(h, cfg.n_coeffs + cfg.n_pose, 1))
        self.register_buffer("mel_mean", torch.zeros(cfg.n_mels))
        self.register_buffer("mel_std", torch.ones(cfg.n_mels))
        self.register_buffer("id_mean", torch.zeros(cfg.n_coeffs))
        self.register_buffer("id_std", torch.ones(cfg.n_coeffs))
        self.register_buffer("out_std", torch.ones(cfg.n_coeffs + cfg.n_pose))
        self.register_buffer("prior", torch.zeros(cfg.n_mels))  # the running mean's starting value
        self.metrics: dict[str, object] = {}

    def forward(self, mel: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
        """mel (B, F, 80) from ``running_normalise``; identity (B, 20) → (B, F, 26)."""
        x = self.inp(((mel - self.mel_mean) / self.mel_std).transpose(1, 2))
        x = x + self.identity((identity - self.id_mean) / self.id_std)[:, :, None]
        for block in self.blocks:
            x = x + block(x)
        return self.head(x).transpose(1, 2) * self.out_std

    def save(self, path: str | Path, metrics: dict[str, object] | None = None) -> Path:
        return save_checkpoint(path, KIND, self.cfg, self.state_dict(), metrics, features_meta())

    @classmethod
    def load(cls, path: str | Path) -> LiveNet:
        """Raises CheckpointError for a missing, non-safetensors or mismatched file."""
        return load_module(cls, LiveConfig, path, KIND)


class RunningMean:
    """Each mel band's mean over the loud frames heard so far, from a prior worth ``prior_frames`` frames.

    A frame is loud when its mean log-power is within ``LOUD_RANGE`` of the loudest frame lately (the peak decays by
    ``PEAK_DECAY`` per frame, so one click does not silence the rest): pauses and room noise do not pull the mean down.
    """

    def __init__(self, prior: np.ndarray, prior_frames: float) -> None:
        self.total = np.asarray(prior, np.float64) * prior_frames
        self.count = float(prior_frames)
        self.peak = -np.inf

    def update(self, mel: np.ndarray) -> np.ndarray:
        """mel (n, 80), the next frames → (n, 80) normalised by the mean as it stood at each frame."""
        out = np.empty_like(mel, dtype=np.float32)
        for i, row in enumerate(mel):
            e = float(row.mean())
            self.peak = max(self.peak - PEAK_DECAY, e)
            if e >= self.peak - LOUD_RANGE:
                self.total += row
                self.count += 1.0
            out[i] = row - self.total / self.count
        return out


#: How far below the loudest recent frame (mean natural-log mel power) a frame still counts as speech: 3 ≈ 13 dB.
LOUD_RANGE = 3.0
#: The peak's decay per 10 ms frame (natural-log power): 0.5 per second, ≈ 2 dB/s.
PEAK_DECAY = 0.005


def running_normalise(mel: np.ndarray, prior: np.ndarray, prior_frames: float) -> np.ndarray:
    """A whole clip's log-mel (F, 80) normalised as the live stream would have been, frame by frame."""
    return RunningMean(prior, prior_frames).update(np.asarray(mel, np.float32))


def silence_rows(prior: np.ndarray, n: int) -> np.ndarray:
    """(n, 80): what the network hears before a stream starts — silence, normalised by the prior. Training puts
    ``receptive_frames`` of them before every clip, as the live engine does before the first sample."""
    from core.audio.features import FeatureConfig

    return np.repeat((np.log(FeatureConfig().floor) - np.asarray(prior, np.float32))[None], n, 0).astype(np.float32)
