"""Ψ, the facial expression learner: speech (+ the face's identity feature) → 20 PCA coefficients per frame.

Two variants share one interface (a clip's log-mel at 100 Hz and its frame times in, (T, 20) out):

- ``paper``: Rhythmic Head Motion's design. Each frame's window x(t−3..t+4) (0.32 s of log-mel) is
  encoded on its own by a small 2D CNN, the reference landmark PCA feature by a linear layer, and
  the fused vector decoded to the frame's coefficients.
- ``tcn``: the same inputs, but the log-mel is encoded once per clip by a dilated temporal
  convolution stack (about ±0.45 s of context) and sampled at each frame's time. Cheaper per
  frame and smoother; it is the shipped default only because validation figures say so
  (``core/assets/MODEL_CARD_motion.md``).

Coefficients are relative to the face's own reference shape (the photo, or a video's most frontal
frame): landmarks = reference + coefficients @ PCA components. They are what the Blender add-on
drives as shape keys on the reconstructed mesh.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.models.checkpoint import features_meta, load_module, save_checkpoint
from core.models.sampling import sample_at

KIND = "parley.expression"
MEL_RATE = 100.0


@dataclass
class ExpressionConfig:
    """Architecture and training settings (saved inside the checkpoint)."""

    variant: str = "tcn"  # "paper" | "tcn"
    n_mels: int = 80
    n_coeffs: int = 20
    window: int = 32  # paper variant: mel frames per window (0.32 s)
    context_before_s: float = 0.12
    hidden: int = 128
    id_dim: int = 32
    dropout: float = 0.1
    # training
    epochs: int = 30
    batch_clips: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-4
    velocity_weight: float = 1.0
    noise_snr_db: tuple[float, ...] = (6, 9, 12, 15, 18, 21, 24, 27, 30)
    clean_fraction: float = 0.25
    speed_perturb: tuple[float, ...] = (0.9, 1.0, 1.1)
    reverb_prob: float = 0.3
    bandlimit_prob: float = 0.3
    identity_noise: float = 0.5  # × per-coefficient std of the identity feature
    seed: int = 0
    # what the coefficients are relative to: "reference" (the given frame, v1) or "rest" (the face's rest shape:
    # lips together, ``core.face.neutral``), and whether the reference's identity feature is an input at all
    target: str = "reference"
    use_identity: bool = True
    feature_norm: str = "global"  # "global" | "utterance" (``core.audio.features.utterance_normalise`` first)
    voice_prob: float = 0.0  # share of training clips given another voice (``core.train.augment.voice_shift``)
    pitch_range: tuple[float, float] = (0.75, 2.2)
    formant_range: tuple[float, float] = (0.88, 1.3)
    # lip range (``core.models.articulation``; target "rest" only): real talkers' 90th-percentile opening over
    # speech, measured on the training footage by the trainer (0: no range shaping), and the closing dead zone
    open_p90: float = 0.0
    # the default range relative to GRID's readers: interview talkers open wider (chosen on the dev-av clips among
    # 1, 1.5, 1.75, 2 by their mean amplitude ratio; see the model card)
    range_level: float = 1.75
    closure_floor: float = 0.35  # dead zone (share of the prediction's P90), chosen on the tuning voices
    close_at: float = 0.35  # phonetic Ψ: /p b m/ probability at which the lips close fully
    open_share: float = 0.8  # phonetic Ψ: an open vowel opens at least this share of the talker range
    # phonetic supervision (tcn only): weight of the mouth-class loss (``core.data.phones``) on Ψ's audio features,
    # learnt from GRID and from audio-only voices; > 0 also feeds the class posteriors to the coefficient head
    phone_weight: float = 0.0
    n_visemes: int = 11
    phone_batch: int = 16  # audio-only crops per step
    phone_crop_s: float = 3.0
    # what Ψ hears (tcn only): "mel" (the spectrum, v1–v2), "phones" (the phonetic encoder's posteriors and the
    # frame energy, ``core.speech.evidence``), or "phones+mel" (both, fused; the mel branch dropped at random in
    # training so the phones carry the words)
    inputs: str = "mel"
    mel_fusion: int = 32  # channels of the mel branch in "phones+mel"
    mel_dropout: float = 0.3
    text_prob: float = 0.4  # training: share of clips whose evidence is their aligned script (the --text path)
    phonetic_sha: str = ""  # the phonetic encoder Ψ was trained on (its file's SHA-256, first 16 hex digits)


class _PaperEncoder(nn.Module):
    """Per-frame window (W × mels) → feature vector (the paper's audio encoder, sized for CPU)."""

    def __init__(self, cfg: ExpressionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
        )
        h, w = -(-cfg.window // 8), -(-cfg.n_mels // 8)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(32 * h * w, cfg.hidden), nn.ReLU())

    def forward(self, mel: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """mel (B, F, M), times (B, T) frame start seconds → (B, T, hidden)."""
        b, f, m = mel.shape
        start = torch.round((times - self.cfg.context_before_s) * MEL_RATE).long()  # (B, T)
        idx = start[..., None] + torch.arange(self.cfg.window, device=mel.device)  # (B, T, W)
        pad = torch.cat([mel, mel.new_full((b, 1, m), 0.0)], dim=1)  # index F = silence (normalised 0)
        idx = torch.where((idx < 0) | (idx >= f), torch.full_like(idx, f), idx)
        win = torch.gather(pad, 1, idx.reshape(b, -1, 1).expand(-1, -1, m)).reshape(b * times.shape[1], 1, -1, m)
        return self.fc(self.conv(win)).reshape(b, times.shape[1], -1)


class _TemporalEncoder(nn.Module):
    """Whole-clip log-mel → features at 50 Hz (dilated residual 1D convs) → sampled at frame times."""

    def __init__(self, cfg: ExpressionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.inp = nn.Sequential(nn.Conv1d(cfg.n_mels, h, 5, stride=2, padding=2), nn.GELU())
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(h, h, 3, padding=d, dilation=d), nn.GELU(), nn.Dropout(cfg.dropout),
                          nn.Conv1d(h, h, 1))
            for d in (1, 2, 4, 8, 1)
        )
        self.norm = nn.GroupNorm(1, h)

    def features(self, mel: torch.Tensor) -> torch.Tensor:
        """mel (B, F, M) → (B, h, F/2) at 50 Hz (frame j centred on mel frame 2j)."""
        x = self.inp(mel.transpose(1, 2))
        for block in self.blocks:
            x = x + block(x)
        return self.norm(x)

    def sample(self, x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        # the paper's window is centred 0.04 s after the frame start; sample there (linear interpolation)
        return sample_at(x, (times + (0.5 * 0.32 - self.cfg.context_before_s)) * MEL_RATE / 2)  # (B, T, h)

    def forward(self, mel: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        return self.sample(self.features(mel), times)


class _EvidenceEncoder(nn.Module):
    """Phone evidence (B, 41, L) at 50 Hz (+ the log-mel for "phones+mel") → (B, h, L) (dilated residual convs,
    about ±0.6 s: the coarticulation of a few phones either side) → sampled at frame times."""

    def __init__(self, cfg: ExpressionConfig) -> None:
        super().__init__()
        from core.models.phonetic import _Block
        from core.speech.evidence import N_EVIDENCE

        h = cfg.hidden
        self.fuse = "mel" in cfg.inputs
        self.mel = nn.Sequential(nn.Conv1d(cfg.n_mels, cfg.mel_fusion, 5, stride=2, padding=2), nn.GELU()) \
            if self.fuse else None
        self.inp = nn.Conv1d(N_EVIDENCE + (cfg.mel_fusion if self.fuse else 0), h, 3, padding=1)
        self.blocks = nn.ModuleList(_Block(h, d, cfg.dropout) for d in (1, 2, 4, 8, 1))
        self.norm = nn.LayerNorm(h)

    def features(self, evidence: torch.Tensor, mel: torch.Tensor | None, keep_mel: torch.Tensor | None = None,
                 ) -> torch.Tensor:
        """evidence (B, 41, L); mel (B, F, M) normalised; keep_mel (B,) 0/1 → (B, h, L)."""
        x = evidence
        if self.mel is not None:
            assert mel is not None
            m = self.mel(mel.transpose(1, 2))[:, :, : x.shape[2]]  # (B, c, L)
            if m.shape[2] < x.shape[2]:
                m = nn.functional.pad(m, (0, x.shape[2] - m.shape[2]))
            if keep_mel is not None:
                m = m * keep_mel[:, None, None]
            x = torch.cat([x, m], dim=1)
        x = self.inp(x)
        for b in self.blocks:
            x = b(x)
        return self.norm(x.transpose(1, 2)).transpose(1, 2)

    def sample(self, x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        return sample_at(x, (times + 0.04) * 50.0)  # (B, T, h), where the mel variant samples


class ExpressionNet(nn.Module):
    """Ψ: (normalised log-mel, frame times, identity feature) → (B, T, 20) PCA coefficients."""

    mel_mean: torch.Tensor
    mel_std: torch.Tensor
    id_mean: torch.Tensor
    id_std: torch.Tensor
    out_std: torch.Tensor

    def __init__(self, cfg: ExpressionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.audio: nn.Module = _PaperEncoder(cfg) if cfg.variant == "paper" else (
            _TemporalEncoder(cfg) if cfg.inputs == "mel" else _EvidenceEncoder(cfg))
        self.identity = nn.Sequential(nn.Linear(cfg.n_coeffs, cfg.id_dim), nn.ReLU())
        self.phones = nn.Conv1d(cfg.hidden, cfg.n_visemes, 1) if self.phonetic else None
        extra = cfg.n_visemes if self.phonetic else 0
        self.head = nn.Sequential(
            nn.Linear(cfg.hidden + extra + cfg.id_dim, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.n_coeffs),
        )
        # input/output normalisation fitted on the training data (part of the checkpoint)
        self.register_buffer("mel_mean", torch.zeros(cfg.n_mels))
        self.register_buffer("mel_std", torch.ones(cfg.n_mels))
        self.register_buffer("id_mean", torch.zeros(cfg.n_coeffs))
        self.register_buffer("id_std", torch.ones(cfg.n_coeffs))
        self.register_buffer("out_std", torch.ones(cfg.n_coeffs))
        self.metrics: dict[str, object] = {}

    @property
    def phonetic(self) -> bool:
        """The v2 design: Ψ's own mouth-class head on its mel features."""
        return self.cfg.phone_weight > 0 and self.cfg.variant == "tcn" and self.cfg.inputs == "mel"

    @property
    def hears_phones(self) -> bool:
        """Ψ reads the phonetic encoder's evidence (``ExpressionConfig.inputs``)."""
        return self.cfg.inputs != "mel"

    def forward(self, mel: torch.Tensor, times: torch.Tensor, identity: torch.Tensor,
                evidence: torch.Tensor | None = None) -> torch.Tensor:
        """mel (B, F, M) raw log-mel; times (B, T) frame starts in s; identity (B, 20); evidence (B, 41, L) for a Ψ
        that hears phones → (B, T, 20)."""
        return self.forward_with_phones(mel, times, identity, evidence)[0]

    def phone_logits(self, mel: torch.Tensor) -> torch.Tensor:
        """mel (B, F, M) raw log-mel → (B, n_visemes, F/2) mouth-class logits at 50 Hz (phonetic variant)."""
        assert self.phones is not None and isinstance(self.audio, _TemporalEncoder)
        return self.phones(self.audio.features((mel - self.mel_mean) / self.mel_std))

    def forward_with_phones(
        self, mel: torch.Tensor, times: torch.Tensor, identity: torch.Tensor, evidence: torch.Tensor | None = None,
        keep_mel: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, T, 20) coefficients and, for the v2 phonetic variant, (B, n_visemes, F/2) mouth-class logits."""
        x = (mel - self.mel_mean) / self.mel_std
        logits = None
        if isinstance(self.audio, _EvidenceEncoder):
            assert evidence is not None, "this Ψ hears phones: pass the phonetic evidence"
            a = self.audio.sample(self.audio.features(evidence, x, keep_mel), times)
        elif self.phones is not None and isinstance(self.audio, _TemporalEncoder):
            f = self.audio.features(x)  # (B, h, F/2)
            logits = self.phones(f)  # (B, n, F/2)
            a = torch.cat([f, torch.softmax(logits, dim=1)], dim=1)
            a = self.audio.sample(a, times)  # (B, T, h + n)
        else:
            a = self.audio(x, times)
        i = self.identity((identity - self.id_mean) / self.id_std)
        if not self.cfg.use_identity:
            i = torch.zeros_like(i)
        fused = torch.cat([a, i[:, None, :].expand(-1, a.shape[1], -1)], dim=-1)
        return self.head(fused) * self.out_std, logits

    def prepare_mel(self, mel: np.ndarray) -> np.ndarray:
        """One clip's ``model_features`` → what this network reads (``read_mel``)."""
        return read_mel(mel, self.cfg)

    def save(self, path: str | Path, metrics: dict[str, object] | None = None) -> Path:
        return save_checkpoint(path, KIND, self.cfg, self.state_dict(), metrics, features_meta())

    @classmethod
    def load(cls, path: str | Path) -> ExpressionNet:
        """Raises CheckpointError for a missing, non-safetensors or mismatched file."""
        return load_module(cls, ExpressionConfig, path, KIND)


def read_mel(mel: np.ndarray, cfg: ExpressionConfig) -> np.ndarray:
    """One clip's ``model_features`` → what a Ψ of ``cfg`` reads (per-utterance normalised if so configured)."""
    if cfg.feature_norm == "utterance":
        from core.audio.features import utterance_normalise

        return utterance_normalise(mel)
    return mel


def identity_feature(reference: np.ndarray, canonical: np.ndarray, components: np.ndarray) -> np.ndarray:
    """The paper's reference landmark PCA feature: the reference face's offset from the canonical face in PCA space."""
    d = (np.asarray(reference, np.float64) - canonical).reshape(-1)
    return (components.astype(np.float64) @ d).astype(np.float32)


@torch.no_grad()
def predict_expression(
    net: ExpressionNet, mel: np.ndarray, n_frames: int, fps: float, identity: np.ndarray,
    evidence: np.ndarray | None = None,
) -> np.ndarray:
    """One clip: log-mel (F, 80) at 100 Hz (and its phone evidence, for a Ψ that hears phones) → (T, 20) float32."""
    return predict_with_visemes(net, mel, n_frames, fps, identity, evidence)[0]


@torch.no_grad()
def predict_with_visemes(
    net: ExpressionNet, mel: np.ndarray, n_frames: int, fps: float, identity: np.ndarray,
    evidence: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """One pass: (T, 20) coefficients and (T, n_visemes) mouth-class probabilities at the frames
    (``core.speech.phoneset.VISEMES``, sampled where Ψ samples its features; None without mouth classes).

    ``evidence``: (L, 41) at 50 Hz (``core.speech.evidence``), required by a Ψ that hears phones; its mouth classes
    are then the evidence's.
    """
    dev = net.mel_mean.device
    times = (torch.arange(n_frames, dtype=torch.float32)[None] / fps).to(dev)
    x = torch.from_numpy(net.prepare_mel(mel))[None].float().to(dev)
    ev = None if evidence is None else torch.from_numpy(evidence.T.copy())[None].float().to(dev)
    out, logits = net.forward_with_phones(x, times, torch.from_numpy(identity)[None].float().to(dev), ev)
    vis = None
    if isinstance(net.audio, _EvidenceEncoder) and evidence is not None:
        from core.speech.evidence import evidence_visemes

        vis = evidence_visemes(evidence, times[0].cpu().numpy())
    elif logits is not None and isinstance(net.audio, _TemporalEncoder):
        vis = net.audio.sample(torch.softmax(logits, dim=1), times)[0].cpu().numpy().astype(np.float32)
    return out[0].cpu().numpy().astype(np.float32), vis
