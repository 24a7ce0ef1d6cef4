"""The phonetic encoder: speech → what is being said, as soft phone evidence that holds on voices it never heard.

Log-mel (loudness-normalised, each band's mean over the utterance's speech removed) → a strided conv to 50 Hz →
dilated residual conv blocks with per-frame layer norm (about ±0.3 s of context) → 40 logits per 20 ms: silence and
the 39 CMU phones (``core.speech.phoneset``). Trained by ``parley train phonetic`` with phone targets on every voice
Parley has — GRID's sentences aligned, LibriSpeech's 251 readers recognised and aligned, festival, flite and espeak-ng
voices with their own phone times — through rooms, noise, codecs and other voices (``core.train.phonetic``).

Ψ reads its posteriors instead of the raw spectrum (``ExpressionConfig.inputs``), and the script path aligns the
words of a dialogue line through them (``core.speech.align``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.models.checkpoint import features_meta, load_module, save_checkpoint
from core.speech.phoneset import N_PHONES, PHONE_VISEME

KIND = "parley.phonetic"
RATE = 50.0  # output frames per second


@dataclass
class PhoneticConfig:
    """Architecture and training settings (saved inside the checkpoint)."""

    n_mels: int = 80
    hidden: int = 192
    dilations: tuple[int, ...] = (1, 2, 4, 1, 2, 4)
    dropout: float = 0.1
    n_phones: int = N_PHONES
    # training
    steps: int = 3000
    batch: int = 16
    crop_s: float = 3.0
    lr: float = 2e-3
    weight_decay: float = 1e-4
    viseme_weight: float = 0.5  # extra cross-entropy on the mouth classes the phones fall into
    label_smoothing: float = 0.05
    noise_snr_db: tuple[float, ...] = (5, 8, 11, 14, 17, 20, 23, 26, 30)
    clean_fraction: float = 0.25
    speed_perturb: tuple[float, float] = (0.85, 1.15)
    reverb_prob: float = 0.4
    bandlimit_prob: float = 0.3
    codec_prob: float = 0.15
    rooms: int = 200  # image-source room impulse responses drawn from (``core.train.rooms``)
    voice_prob: float = 0.5
    pitch_range: tuple[float, float] = (0.7, 2.0)
    formant_range: tuple[float, float] = (0.85, 1.25)
    #: share of each step's crops drawn from each kind of corpus (real speech matters most)
    mix: dict[str, float] = field(default_factory=lambda: {"aligned": 0.35, "recognised": 0.4, "synthetic": 0.25})
    seed: int = 0
    data: str = ""


class _Block(nn.Module):
    def __init__(self, h: int, d: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(h)
        self.conv = nn.Sequential(nn.Conv1d(h, h, 3, padding=d, dilation=d), nn.GELU(), nn.Dropout(dropout),
                                  nn.Conv1d(h, h, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, h, L)
        return x + self.conv(self.norm(x.transpose(1, 2)).transpose(1, 2))


class PhoneticNet(nn.Module):
    """(B, F, 80) log-mel at 100 Hz → (B, 40, ⌈F/2⌉) phone logits at 50 Hz."""

    mel_mean: torch.Tensor
    mel_std: torch.Tensor
    viseme_of: torch.Tensor

    def __init__(self, cfg: PhoneticConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.inp = nn.Sequential(nn.Conv1d(cfg.n_mels, h, 5, stride=2, padding=2), nn.GELU())
        self.blocks = nn.ModuleList(_Block(h, d, cfg.dropout) for d in cfg.dilations)
        self.norm = nn.LayerNorm(h)
        self.out = nn.Conv1d(h, cfg.n_phones, 1)
        self.register_buffer("mel_mean", torch.zeros(cfg.n_mels))
        self.register_buffer("mel_std", torch.ones(cfg.n_mels))
        self.register_buffer("viseme_of", torch.from_numpy(PHONE_VISEME.copy()), persistent=False)
        self.metrics: dict[str, object] = {}

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = ((mel - self.mel_mean) / self.mel_std).transpose(1, 2)  # (B, 80, F)
        x = self.inp(x)
        for b in self.blocks:
            x = b(x)
        return self.out(self.norm(x.transpose(1, 2)).transpose(1, 2))  # (B, 40, L)

    def save(self, path: str | Path, metrics: dict[str, object] | None = None) -> Path:
        return save_checkpoint(path, KIND, self.cfg, self.state_dict(), metrics, features_meta())

    @classmethod
    def load(cls, path: str | Path) -> PhoneticNet:
        """Raises CheckpointError for a missing, non-safetensors or mismatched file."""
        return load_module(cls, PhoneticConfig, path, KIND)


def read_mel(mel: np.ndarray) -> np.ndarray:
    """A clip's ``model_features`` → what the encoder reads (each band's mean over the speech removed)."""
    from core.audio.features import utterance_normalise

    return utterance_normalise(mel)


@torch.no_grad()
def phone_posteriors(net: PhoneticNet, mel: np.ndarray) -> np.ndarray:
    """One clip's ``model_features`` (F, 80) → (⌈F/2⌉, 40) float32 phone probabilities at 50 Hz."""
    dev = net.mel_mean.device
    x = torch.from_numpy(read_mel(mel))[None].float().to(dev)
    return torch.softmax(net(x), dim=1)[0].T.cpu().numpy().astype(np.float32)
