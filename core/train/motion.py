"""``parley train motion``: fit Φ (few-shot head motion) with its mean/std discriminator."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from core.audio.features import model_features
from core.metrics.motion import head_motion_stats
from core.models.motion import HeadMotionNet, MeanStdDiscriminator, MotionConfig, predict_motion
from core.train.augment import augment
from core.train.common import load_state, pick_device, save_state, seed_everything
from core.train.data import Clip
from core.train.expression import FLOOR

log = logging.getLogger(__name__)


def _pad(seqs: list[np.ndarray], value: float) -> np.ndarray:
    n = max(len(s) for s in seqs)
    out = np.full((len(seqs), n, *seqs[0].shape[1:]), value, np.float32)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out


def reference_of(c: Clip, by_speaker: dict[str, list[Clip]], rng: np.random.Generator | None) -> Clip:
    """Another clip of the same speaker (the reference video), or the clip itself when it is the only one."""
    others = [o for o in by_speaker[c.speaker] if o.key != c.key]
    if not others:
        return c
    return others[int(rng.integers(len(others)))] if rng is not None else others[0]


def _ref_inputs(ref: Clip, tau: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = min(tau, ref.frames)
    audio = ref.audio[: int(round(n / ref.fps * 16000))]
    pose = ref.pose[:n] - ref.pose[:n].mean(0)
    return model_features(audio), pose, np.arange(n) / ref.fps


def train_motion(
    split: dict[str, list[Clip]], out: Path, cfg: MotionConfig, device: str = "cpu",
    resume: bool = True, progress: bool = True,
) -> tuple[HeadMotionNet, dict[str, Any]]:
    """Train Φ on split['train'] with references from other clips of the same speaker."""
    rng = seed_everything(cfg.seed)
    dev = pick_device(device)
    train = split["train"]
    by_speaker: dict[str, list[Clip]] = {}
    for c in train:
        by_speaker.setdefault(c.speaker, []).append(c)
    net, disc = HeadMotionNet(cfg), MeanStdDiscriminator(cfg.velocity_stats)
    mel_all = np.concatenate([model_features(c.audio) for c in train])
    poses = np.concatenate([c.pose - c.pose.mean(0) for c in train])
    with torch.no_grad():
        net.mel_mean.copy_(torch.from_numpy(mel_all.mean(0)))
        net.mel_std.copy_(torch.from_numpy(mel_all.std(0) + 1e-3))
        net.pose_std.copy_(torch.from_numpy(poses.std(0) + 1e-5))
    net.to(dev)
    disc.to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr)
    start, history = 0, []
    state = load_state(out, net, opt) if resume else None
    if state is not None:
        start, history = int(state["epoch"]), list(state["history"])
        disc.load_state_dict(state["disc"])
        opt_d.load_state_dict(state["opt_d"])
        rng = np.random.default_rng(cfg.seed + start)
    pool = [c.audio for c in train]
    scale = net.pose_std.to(dev)
    for epoch in range(start, cfg.epochs):
        net.train()
        order = rng.permutation(len(train))
        batches = [order[i : i + cfg.batch_clips] for i in range(0, len(order), cfg.batch_clips)]
        bar = tqdm(batches, desc=f"motion {epoch + 1}/{cfg.epochs}", disable=not progress, leave=False)
        tot_rec = tot_adv = 0.0
        for idx in bar:
            clips = [train[i] for i in idx]
            refs = [_ref_inputs(reference_of(c, by_speaker, rng), cfg.reference_frames) for c in clips]
            mels = [model_features(augment(c.audio, rng, pool, cfg.noise_snr_db, 0.3, 0.2, 0.2)) for c in clips]
            tgt = [c.pose - c.pose.mean(0) for c in clips]
            mask = torch.from_numpy(_pad([np.ones((len(t), 1)) for t in tgt], 0.0)).to(dev)
            t_mel = torch.from_numpy(_pad(mels, FLOOR)).to(dev)
            t_time = torch.from_numpy(_pad([np.arange(len(t)) / c.fps for t, c in zip(tgt, clips, strict=True)], 0.0))
            target = torch.from_numpy(_pad(tgt, 0.0)).to(dev)
            r_mel = torch.from_numpy(_pad([r[0] for r in refs], FLOOR)).to(dev)
            r_pose = torch.from_numpy(_pad([r[1] for r in refs], 0.0)).to(dev)
            r_time = torch.from_numpy(_pad([r[2] for r in refs], 0.0)).to(dev)
            r_std = torch.from_numpy(np.stack([r[1].std(0) for r in refs]).astype(np.float32)).clamp(min=1e-4).to(dev)
            wb = net.encode_reference(r_mel, r_time, r_pose)
            pred = net.extrapolate(t_mel, t_time.to(dev), wb, r_std) * mask
            # discriminator step (least squares GAN on the sequences' statistics)
            d_real, d_fake = disc(target, scale), disc(pred.detach(), scale)
            loss_d = ((d_real - 1) ** 2).mean() + (d_fake**2).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            rec = (F.l1_loss(pred / scale, target / scale, reduction="none") * mask).sum() / (mask.sum() * 6)
            adv = ((disc(pred, scale) - 1) ** 2).mean()
            loss = rec + cfg.adv_weight * adv
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            tot_rec += float(rec.detach())
            tot_adv += float(adv.detach())
            bar.set_postfix(rec=f"{float(rec):.3f}", adv=f"{float(adv):.3f}")
        net.cpu()
        set_default_style(net, train, by_speaker, cfg.reference_frames)
        m: dict[str, float] = {"epoch": epoch + 1, "rec": tot_rec / len(batches), "adv": tot_adv / len(batches)}
        if split.get("val_unseen"):
            m.update({f"unseen_{k}": v for k, v in validate_motion(net, split["val_unseen"]).items()})
        history.append(m)
        if progress:
            print(f"epoch {epoch + 1}: " + ", ".join(f"{k}={v:.4g}" for k, v in m.items() if k != "epoch"), flush=True)
        net.save(out, {"epochs": epoch + 1, **{k: v for k, v in m.items() if k != "epoch"}})
        net.to(dev)
        save_state(
            out, epoch + 1, net, opt, {"history": history, "disc": disc.state_dict(), "opt_d": opt_d.state_dict()}
        )
    return HeadMotionNet.load(out), {"history": history}


@torch.no_grad()
def set_default_style(net: HeadMotionNet, train: list[Clip], by_speaker: dict[str, list[Clip]], tau: int) -> None:
    """The photo-only style: mean dynamic layer over training references, median reference std."""
    net.eval()
    wbs, stds = [], []
    for c in train[:: max(1, len(train) // 200)]:
        mel, pose, times = _ref_inputs(c, tau)
        wb = net.encode_reference(torch.from_numpy(mel)[None], torch.from_numpy(times).float()[None],
                                  torch.from_numpy(pose)[None])
        wbs.append(wb[0])
        stds.append(pose.std(0))
    net.default_wb.copy_(torch.stack(wbs).mean(0))
    net.default_std.copy_(torch.from_numpy(np.median(np.stack(stds), 0).astype(np.float32)).clamp(min=1e-4))


def validate_motion(net: HeadMotionNet, clips: list[Clip], use_reference: bool = True) -> dict[str, float]:
    """Motion statistics against the tracked footage (medians over clips).

    rot_std_ratio: predicted / real per-axis rotation std; speed_ratio: mean angular speed ratio;
    rot_err_deg: mean absolute rotation error, next to that of predicting no motion (static_err_deg).
    """
    net.eval()
    by_speaker: dict[str, list[Clip]] = {}
    for c in clips:
        by_speaker.setdefault(c.speaker, []).append(c)
    std_r, speed_r, err, static = [], [], [], []
    for c in clips:
        ref = None
        if use_reference:
            rc = reference_of(c, by_speaker, None)
            rmel, rpose, _ = _ref_inputs(rc, net.cfg.reference_frames)
            ref = (rmel, rpose, rc.fps)
        pred = predict_motion(net, model_features(c.audio), c.frames, c.fps, ref)
        real = c.pose - c.pose.mean(0)
        std_r.append(float(np.mean(pred[:, :3].std(0) / np.maximum(real[:, :3].std(0), 1e-6))))
        sp, sr = head_motion_stats(pred, c.fps), head_motion_stats(real, c.fps)
        speed_r.append(sp.mean / max(sr.mean, 1e-6))
        err.append(float(np.degrees(np.abs(pred[:, :3] - real[:, :3]).mean())))
        static.append(float(np.degrees(np.abs(real[:, :3]).mean())))
    return {"rot_std_ratio": float(np.median(std_r)), "speed_ratio": float(np.median(speed_r)),
            "rot_err_deg": float(np.median(err)), "static_err_deg": float(np.median(static))}
