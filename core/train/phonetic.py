"""``parley train phonetic``: the phonetic encoder from phone-labelled speech of many voices
(``core.data.phone_corpus``).

Each step draws ``batch`` crops of ``crop_s`` seconds, mixed across the kinds of corpus by ``PhoneticConfig.mix``,
and gives each what real recordings do to speech: another tempo (labels stretched alike), another voice (pitch and
vocal-tract length, ``core.train.augment.voice_shift``), a room (image-source impulse responses, ``core.train.rooms``),
a cheap microphone or a telephone line (band limits, 8 kHz μ-law), noise and babble at 5–30 dB SNR, any level.
Loss: cross-entropy on the 40 phones (label smoothing) plus ``viseme_weight`` × cross-entropy on the mouth classes
they fall into, at 50 Hz. The last step is kept; validation figures on held-out voices are stored in the file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from core.audio.features import mel_from_power, model_features, model_power
from core.data.phone_corpus import LabelledClip
from core.models.phonetic import PhoneticConfig, PhoneticNet, read_mel
from core.speech.phoneset import BILABIAL, N_VISEMES, OPEN, PHONE_VISEME, SIL
from core.train.augment import SR, augment, band_limit, change_speed, voice_shift
from core.train.common import load_state, pick_device, save_state, seed_everything
from core.train.rooms import convolve, room_bank

log = logging.getLogger(__name__)
FLOOR = float(np.log(1e-5))
HOP = 160


def telephone(x: np.ndarray) -> np.ndarray:
    """8 kHz, 8-bit μ-law and back: a phone line or a cheap VoIP codec."""
    y = x[::2]
    y = y / (np.abs(y).max() + 1e-9)
    mu = 255.0
    c = np.sign(y) * np.log1p(mu * np.abs(y)) / np.log1p(mu)
    c = np.round(c * 127) / 127
    y = np.sign(c) * np.expm1(np.abs(c) * np.log1p(mu)) / mu
    up = np.interp(np.arange(len(x)) / 2.0, np.arange(len(y)), y)
    return band_limit(up.astype(np.float32), np.random.default_rng(len(x))) * float(np.abs(x).max())


@dataclass
class Crop:
    mel: np.ndarray  # (F, 80) what the encoder reads
    labels: np.ndarray  # (F,) phone per 10 ms


def make_crop(c: LabelledClip, cfg: PhoneticConfig, rng: np.random.Generator, pool: list[np.ndarray],
              rooms: list[np.ndarray], train: bool = True) -> Crop:
    """One training (or, ``train=False``, clean whole-clip) example."""
    audio, labels = c.audio, c.phones
    if train:
        n = int(cfg.crop_s * SR)
        start = int(rng.integers(0, max(1, len(audio) - n))) // HOP * HOP
        audio, labels = audio[start : start + n], labels[start // HOP : (start + n) // HOP + 1]
        s = float(rng.uniform(*cfg.speed_perturb))
        audio = change_speed(audio, s)
        f = 1 + len(audio) // HOP
        labels = labels[np.minimum(np.round(np.arange(f) * s).astype(np.int64), len(labels) - 1)]
        if rooms and rng.random() < cfg.reverb_prob * 0.7:
            audio = convolve(audio, rooms[int(rng.integers(len(rooms)))])
            reverb_prob = 0.0
        else:
            reverb_prob = cfg.reverb_prob * (0.3 if rooms else 1.0)
        if rng.random() < cfg.codec_prob:
            audio = telephone(audio)
        audio = augment(audio, rng, pool, cfg.noise_snr_db, cfg.clean_fraction, reverb_prob, cfg.bandlimit_prob)
        power = model_power(audio)
        if rng.random() < cfg.voice_prob:
            pitch = float(np.exp(rng.uniform(*np.log(cfg.pitch_range))))
            formant = float(np.exp(rng.uniform(*np.log(cfg.formant_range))))
            power = voice_shift(power, pitch, formant)
        mel = read_mel(mel_from_power(power))
    else:
        mel = read_mel(model_features(audio))
    f = len(mel)
    lab = np.full(f, SIL, np.int64)
    lab[: min(f, len(labels))] = labels[:f]
    return Crop(mel.astype(np.float32), lab)


def collate(crops: list[Crop]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, F, 80) mel padded with the floor, (B, ⌈F/2⌉) phone labels at 50 Hz (-100 where padded)."""
    fmax = max(len(c.mel) for c in crops)
    fmax += fmax % 2
    mel = np.full((len(crops), fmax, crops[0].mel.shape[1]), 0.0, np.float32)
    lab = np.full((len(crops), fmax // 2), -100, np.int64)
    for i, c in enumerate(crops):
        mel[i, : len(c.mel)] = c.mel
        sub = c.labels[::2]
        lab[i, : len(sub)] = sub
    return torch.from_numpy(mel), torch.from_numpy(lab)


def loss_fn(logits: torch.Tensor, lab: torch.Tensor, net: PhoneticNet) -> torch.Tensor:
    """Phone cross-entropy + ``viseme_weight`` × mouth-class cross-entropy; logits (B, 40, L), lab (B, L)."""
    cfg = net.cfg
    lab = lab[:, : logits.shape[2]]
    logits = logits[:, :, : lab.shape[1]]
    ce = torch.nn.functional.cross_entropy(logits, lab, ignore_index=-100, label_smoothing=cfg.label_smoothing)
    if cfg.viseme_weight <= 0:
        return ce
    onehot = torch.nn.functional.one_hot(net.viseme_of.to(logits.device), N_VISEMES).to(logits.dtype)  # (40, V)
    vis = torch.einsum("bpl,pv->bvl", torch.softmax(logits, dim=1), onehot).clamp_min(1e-8).log()  # (B, V, L)
    vlab = torch.where(lab >= 0, net.viseme_of.to(lab.device)[lab.clamp_min(0)], lab)
    return ce + cfg.viseme_weight * torch.nn.functional.nll_loss(vis, vlab, ignore_index=-100)


def fit_normaliser(net: PhoneticNet, clips: list[LabelledClip], limit: int = 400) -> None:
    mel = np.concatenate([read_mel(model_features(c.audio)) for c in clips[:: max(1, len(clips) // limit)]])
    with torch.no_grad():
        net.mel_mean.copy_(torch.from_numpy(mel.mean(0)))
        net.mel_std.copy_(torch.from_numpy(mel.std(0) + 1e-3))


@torch.no_grad()
def evaluate(net: PhoneticNet, clips: list[LabelledClip]) -> dict[str, float]:
    """Frame accuracy (phones, mouth classes; speech frames only), and recall of /p b m/ and open vowels."""
    net.eval()
    hit = vhit = n = 0
    bil = bil_hit = opn = opn_hit = 0
    for c in clips:
        cr = make_crop(c, net.cfg, np.random.default_rng(0), [], [], train=False)
        logits = net(torch.from_numpy(cr.mel)[None])[0]  # (40, L)
        pred = logits.argmax(0).numpy()
        lab = cr.labels[::2][: len(pred)]
        pred = pred[: len(lab)]
        speech = lab != SIL
        hit += int((pred == lab)[speech].sum())
        vp, vl = PHONE_VISEME[pred], PHONE_VISEME[lab]
        vhit += int((vp == vl)[speech].sum())
        n += int(speech.sum())
        bil += int((vl == BILABIAL).sum())
        bil_hit += int(((vl == BILABIAL) & (vp == BILABIAL)).sum())
        opn += int((vl == OPEN).sum())
        opn_hit += int(((vl == OPEN) & (vp == OPEN)).sum())
    return {"phone_acc": hit / max(n, 1), "viseme_acc": vhit / max(n, 1), "bilabial_recall": bil_hit / max(bil, 1),
            "open_recall": opn_hit / max(opn, 1), "frames": float(n)}


def train_phonetic(
    train: list[LabelledClip], val: dict[str, list[LabelledClip]], out: Path, cfg: PhoneticConfig,
    device: str = "cpu", resume: bool = True, progress: bool = True, every: int = 250, rooms_cache: Path | None = None,
) -> tuple[PhoneticNet, dict[str, Any]]:
    """Train on ``train``; every ``every`` steps validate on each group of ``val``, save the checkpoint and the
    resumable state. Returns the final network and the report (history of validation figures)."""
    rng = seed_everything(cfg.seed)
    dev = pick_device(device)
    net = PhoneticNet(cfg)
    fit_normaliser(net, train)
    net.to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps, pct_start=0.1)
    start, history = 0, []
    state = load_state(out, net, opt) if resume else None
    if state is not None:
        start, history = int(state["epoch"]), list(state["history"])
        sched.load_state_dict(state["sched"])
        rng = np.random.default_rng(cfg.seed + start)
    kinds = {k: [c for c in train if c.kind == k] for k in cfg.mix}
    kinds = {k: v for k, v in kinds.items() if v}
    share = np.array([cfg.mix[k] for k in kinds])
    share /= share.sum()
    names = list(kinds)
    pool = [c.audio for c in train[:: max(1, len(train) // 300)]]
    rooms = room_bank(cfg.rooms, cfg.seed, rooms_cache)
    bar = tqdm(range(start, cfg.steps), desc="phonetic", disable=not progress, initial=start, total=cfg.steps)
    running = 0.0
    for step in bar:
        net.train()
        picks = rng.choice(len(names), size=cfg.batch, p=share)
        crops = [make_crop(kinds[names[k]][int(rng.integers(len(kinds[names[k]])))], cfg, rng, pool, rooms)
                 for k in picks]
        mel, lab = collate(crops)
        loss = loss_fn(net(mel.to(dev)), lab.to(dev), net)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        running = 0.98 * running + 0.02 * float(loss.detach()) if step > start else float(loss.detach())
        bar.set_postfix(loss=f"{running:.3f}")
        if (step + 1) % every == 0 or step + 1 == cfg.steps:
            net.cpu()
            m: dict[str, Any] = {"step": step + 1, "train_loss": running}
            for g, clips in val.items():
                m.update({f"{g}_{k}": v for k, v in evaluate(net, clips).items() if k != "frames"})
            history.append(m)
            if progress:
                print(f"step {step + 1}: " + ", ".join(f"{k}={v:.3f}" for k, v in m.items() if k != "step"), flush=True)
            net.save(out, {"steps": step + 1, **{k: v for k, v in m.items() if k != "step"}})
            net.to(dev)
            save_state(out, step + 1, net, opt, {"history": history, "sched": sched.state_dict()})
    return PhoneticNet.load(out), {"history": history}
