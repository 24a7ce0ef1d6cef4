"""The renderer's network: a small U-Net that repairs the warped face (issue 14's generator, CPU-sized).

Input, on a square window that follows the mouth (as wide as the face between the cheeks, ``crop``² pixels): the
warped frame, a mask of what the photo never showed (the mouth's inside drawn from the head's materials), and the
same window of the reference photo — the hybrid embedding's point: what the warp lost (the person's lips, their
teeth when the photo shows them), the reference still has. Output: a residual added to the warped window, blended
back into the frame with a feathered edge. The mouth is where the warp is wrong (teeth, tongue, the inner lips it
cannot know); the rest of the face the warp already gets right, so the network is not asked to touch it. Trained
by ``parley train renderer`` on GRID's training speaker (L1 and image-gradient L1 to the real frame).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.errors import CheckpointError
from core.models.checkpoint import read_checkpoint, save_checkpoint

KIND = "parley.refiner"


@dataclass
class RefinerConfig:
    channels: int = 16
    crop: int = 96
    steps: int = 1500
    batch: int = 12
    lr: float = 2e-3
    clips: int = 150  # training clips (the training speaker's), a few frames each
    frames_per_clip: int = 8
    colour: float = 0.25  # augmentation: per-channel gain spread, the same for input, reference and target
    jitter: float = 0.0  # augmentation: the input window shifted by up to this many pixels (the tracker's noise)
    gradient_weight: float = 0.5
    #: the reference window: "photo" (the photo's own mouth) or "open" (from a face video, or a training clip, the
    #: frame whose mouth is most open: the person's teeth and inner lips, which the photo may not show)
    reference: str = "photo"
    #: the residual is kept within this many pixels (odd; dilation then blur) of the drawn mouth inside, and is zero
    #: elsewhere: the warp already has the person's skin right, and a face unlike GRID's (a moustache) must not be
    #: repainted; 0: no gate
    gate: int = 13
    seed: int = 0
    data: str = ""


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(0.1),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.LeakyReLU(0.1))


class RefinerNet(nn.Module):
    def __init__(self, cfg: RefinerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.e1, self.e2, self.e3 = _block(7, c), _block(c, 2 * c), _block(2 * c, 4 * c)
        self.d2, self.d1 = _block(4 * c + 2 * c, 2 * c), _block(2 * c + c, c)
        self.out = nn.Conv2d(c, 3, 1)
        nn.init.zeros_(self.out.weight)  # starts as the identity: the warp itself
        if self.out.bias is not None:
            nn.init.zeros_(self.out.bias)

    def forward(self, warped: torch.Tensor, mask: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) warped, (B, 1, H, W) mask, (B, 3, H, W) reference, in [0, 1] → the repaired crop."""
        x = torch.cat([warped, mask, reference], 1)
        a = self.e1(x)
        b = self.e2(nn.functional.avg_pool2d(a, 2))
        c = self.e3(nn.functional.avg_pool2d(b, 2))
        u = nn.functional.interpolate(c, scale_factor=2, mode="bilinear", align_corners=False)
        u = self.d2(torch.cat([u, b], 1))
        u = nn.functional.interpolate(u, scale_factor=2, mode="bilinear", align_corners=False)
        u = self.d1(torch.cat([u, a], 1))
        residual = 0.5 * torch.tanh(self.out(u))
        if self.cfg.gate:
            k = self.cfg.gate
            near = nn.functional.max_pool2d(mask, k, 1, k // 2)
            residual = residual * (2.0 * nn.functional.avg_pool2d(near, k, 1, k // 2)).clamp(0.0, 1.0)
        return (warped + residual).clamp(0.0, 1.0)

    def save(self, path: str | Path, metrics: dict[str, Any] | None = None) -> Path:
        return save_checkpoint(path, KIND, self.cfg, {k: v.detach().cpu() for k, v in self.state_dict().items()},
                               metrics)

    @classmethod
    def load(cls, path: str | Path) -> RefinerNet:
        cfg_d, tensors, _ = read_checkpoint(path, KIND)
        try:
            net = cls(RefinerConfig(**cfg_d))
            net.load_state_dict(tensors)
        except (TypeError, RuntimeError, KeyError) as exc:
            raise CheckpointError(f"{path}: not a refiner this Parley can load ({exc})") from exc
        return net.eval()

    def config(self) -> dict[str, Any]:
        return asdict(self.cfg)


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """(H, W, C) uint8 or (H, W) float → (1, C, H, W) float in [0, 1]."""
    a = np.asarray(img, np.float32)
    if a.ndim == 2:
        a = a[..., None]
    elif a.dtype != np.float32 or a.max() > 1.0:
        a = a / 255.0
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None]


@torch.no_grad()
def refine(net: RefinerNet, warped: np.ndarray, mask: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """One crop (crop², uint8) repaired → uint8."""
    out = net(to_tensor(warped), to_tensor(mask.astype(np.float32)), to_tensor(reference))[0]
    return (out.numpy().transpose(1, 2, 0) * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
