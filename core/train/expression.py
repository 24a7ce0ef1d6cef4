"""``parley train expression``: fit Ψ on prepared clips with the paper's noise augmentation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from core.audio.features import (
    frame_count,
    frame_energy,
    mel_from_power,
    model_features,
    model_power,
)
from core.data.phone_corpus import grid_sentence
from core.errors import ParleyError
from core.face.geometry import lip_gap, mouth_aperture
from core.metrics.landmarks import msi_lips
from core.metrics.sync import sync_scores
from core.models.articulation import fit_open_p90, speech_frames
from core.models.expression import ExpressionConfig, ExpressionNet, predict_expression, read_mel
from core.models.phonetic import PhoneticNet, phone_posteriors
from core.train.augment import SR, augment, change_speed, voice_shift
from core.train.common import load_state, pick_device, save_state, seed_everything
from core.train.data import Clip

log = logging.getLogger(__name__)
FLOOR = float(np.log(1e-5))


@dataclass
class Batch:
    mel: torch.Tensor  # (B, F, 80)
    times: torch.Tensor  # (B, T)
    identity: torch.Tensor  # (B, 20)
    target: torch.Tensor  # (B, T, 20)
    mask: torch.Tensor  # (B, T)
    visemes: torch.Tensor | None = None  # (B, F) mouth class per 10 ms, -100 where unknown or padded
    evidence: torch.Tensor | None = None  # (B, 41, L) phone evidence at 50 Hz (a Ψ that hears phones)
    keep_mel: torch.Tensor | None = None  # (B,) 1: the mel branch is heard, 0: dropped (training)


def _raw_features(x: np.ndarray, cfg: ExpressionConfig, rng: np.random.Generator, pool: list[np.ndarray],
                  train: bool) -> np.ndarray:
    """Room, channel, noise and another voice (training), then the clip's ``model_features``."""
    if train:
        x = augment(x, rng, pool, cfg.noise_snr_db, cfg.clean_fraction, cfg.reverb_prob, cfg.bandlimit_prob)
    if train and rng.random() < cfg.voice_prob:
        pitch = float(np.exp(rng.uniform(*np.log(cfg.pitch_range))))
        formant = float(np.exp(rng.uniform(*np.log(cfg.formant_range))))
        return mel_from_power(voice_shift(model_power(x), pitch, formant))
    return model_features(x)


def _features(x: np.ndarray, cfg: ExpressionConfig, rng: np.random.Generator, pool: list[np.ndarray],
              train: bool) -> np.ndarray:
    """What the network reads of a clip after ``_raw_features``."""
    return read_mel(_raw_features(x, cfg, rng, pool, train), cfg)


def clip_evidence(phonetic: PhoneticNet, raws: list[np.ndarray], scripts: list[str | None]) -> list[np.ndarray]:
    """Each clip's (L, 41) phone evidence from its ``model_features``; where a script is given, its words aligned
    and written in (the ``--text`` path, ``core.speech.evidence.script_evidence``)."""
    from core.speech.align import align_words
    from core.speech.evidence import audio_evidence, script_evidence
    from core.speech.lexicon import pronounce

    out = []
    for raw, script in zip(raws, scripts, strict=True):
        post = phone_posteriors(phonetic, raw)
        ev = audio_evidence(post, raw)
        if script:
            al = align_words(np.log(post + 1e-8), pronounce(script))
            ev = script_evidence(ev, al.phones, al.matched)
        out.append(ev)
    return out


def _pad_evidence(evs: list[np.ndarray], frames: int) -> torch.Tensor:
    from core.speech.evidence import N_EVIDENCE

    out = np.zeros((len(evs), N_EVIDENCE, frames), np.float32)
    out[:, N_EVIDENCE - 1] = -3.0  # silence: no loudness
    out[:, 0] = 1.0  # and the silence phone
    for i, e in enumerate(evs):
        n = min(frames, len(e))
        out[i, :, :n] = e[:n].T
    return torch.from_numpy(out)


def _pad_labels(labels: list[np.ndarray], frames: int) -> torch.Tensor:
    out = np.full((len(labels), frames), -100, np.int64)
    for i, v in enumerate(labels):
        out[i, : min(frames, len(v))] = v[:frames]
    return torch.from_numpy(out)


def phone_batch(items: list[tuple[np.ndarray, np.ndarray]], cfg: ExpressionConfig, rng: np.random.Generator,
                pool: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ``cfg.phone_crop_s`` crops of audio-only labelled speech → (mel (B, F, 80), visemes (B, F))."""
    n = int(cfg.phone_crop_s * SR)
    mels, labs = [], []
    for audio, vis in items:
        start = int(rng.integers(0, max(1, len(audio) - n)))
        start -= start % 160
        mels.append(_features(audio[start : start + n], cfg, rng, pool, True))
        labs.append(vis[start // 160 :][: len(mels[-1])].astype(np.int64))
    fmax = max(len(m) for m in mels)
    mel = np.full((len(mels), fmax, mels[0].shape[1]), FLOOR, np.float32)
    for i, m in enumerate(mels):
        mel[i, : len(m)] = m
    return torch.from_numpy(mel), _pad_labels(labs, fmax)


def phone_loss(logits: torch.Tensor, visemes: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of (B, n, F/2) logits at 50 Hz against (B, F) labels at 100 Hz (every other one)."""
    lab = visemes[:, ::2][:, : logits.shape[2]]
    return torch.nn.functional.cross_entropy(logits[:, :, : lab.shape[1]], lab, ignore_index=-100)


def make_batch(clips: list[Clip], cfg: ExpressionConfig, rng: np.random.Generator, pool: list[np.ndarray],
               id_std: np.ndarray | None, train: bool,
               visemes: dict[str, np.ndarray] | None = None, phonetic: PhoneticNet | None = None,
               text: bool | None = None) -> Batch:
    """A batch of clips (augmented when ``train``). A Ψ that hears phones gets each clip's phone evidence from
    ``phonetic``; a share ``cfg.text_prob`` of the clips (or all, or none: ``text``) with its GRID sentence aligned."""
    mels, targets, idents, times, labs, raws, scripts = [], [], [], [], [], [], []
    for c in clips:
        s = float(rng.choice(cfg.speed_perturb)) if train else 1.0
        x = change_speed(c.audio, s)
        raw = _raw_features(x, cfg, rng, pool, train)
        mel = read_mel(raw, cfg)
        raws.append(raw)
        use_text = (rng.random() < cfg.text_prob) if text is None else text
        scripts.append(grid_sentence(c.key) if use_text else None)
        if visemes is not None:
            v = visemes.get(c.key, np.zeros(0, np.uint8)).astype(np.int64)
            labs.append(v[np.minimum(np.round(np.arange(len(mel)) * s).astype(np.int64), len(v) - 1)] if len(v) else v)
        n = frame_count(len(x) / SR, c.fps)
        src = np.minimum(np.arange(n) * s, c.frames - 1)  # source frame (start-aligned) of each new frame
        q = np.stack([np.interp(src, np.arange(c.frames), c.coeffs[:, k]) for k in range(c.coeffs.shape[1])], 1)
        r = int(rng.integers(c.frames)) if train else c.frontal_index
        ident = c.identity[r].copy()
        if train and id_std is not None:
            ident += rng.standard_normal(ident.shape).astype(np.float32) * id_std * cfg.identity_noise
        mels.append(mel)
        targets.append(q - (c.rest_coeffs if cfg.target == "rest" else c.coeffs[r]))
        idents.append(ident)
        times.append(np.arange(n) / c.fps)
    tmax, fmax = max(len(t) for t in targets), max(len(m) for m in mels)
    b = len(clips)
    mel = np.full((b, fmax, mels[0].shape[1]), FLOOR, np.float32)
    tgt = np.zeros((b, tmax, targets[0].shape[1]), np.float32)
    tim = np.zeros((b, tmax), np.float32)
    mask = np.zeros((b, tmax), np.float32)
    for i in range(b):
        mel[i, : len(mels[i])] = mels[i]
        tgt[i, : len(targets[i])] = targets[i]
        tim[i, : len(times[i])] = times[i]
        mask[i, : len(targets[i])] = 1
    evidence = keep = None
    if cfg.inputs != "mel":
        assert phonetic is not None, "a Ψ that hears phones trains with a phonetic encoder"
        evidence = _pad_evidence(clip_evidence(phonetic, raws, scripts), (fmax + 1) // 2)
        keep = torch.from_numpy((rng.random(b) >= cfg.mel_dropout if train else np.ones(b, bool)).astype(np.float32))
    return Batch(torch.from_numpy(mel), torch.from_numpy(tim), torch.from_numpy(np.stack(idents)),
                 torch.from_numpy(tgt), torch.from_numpy(mask), _pad_labels(labs, fmax) if labs else None,
                 evidence, keep)


def loss_fn(pred: torch.Tensor, b: Batch, velocity_weight: float) -> torch.Tensor:
    """Landmark-space squared error (the PCA basis is orthonormal) plus the same on frame-to-frame velocity."""
    m = b.mask[..., None]
    err = ((pred - b.target) ** 2 * m).sum() / m.sum()
    dv = (pred[:, 1:] - pred[:, :-1]) - (b.target[:, 1:] - b.target[:, :-1])
    mv = m[:, 1:] * m[:, :-1]
    return err + velocity_weight * ((dv**2) * mv).sum() / mv.sum().clamp(min=1)


def footage_open_p90(clips: list[Clip]) -> float:
    """Real talkers' lip range: the median over clips of the 90th-percentile opening over speech (tracked)."""
    opens, speech = [], []
    for c in clips:
        opens.append(c.gap - float(lip_gap(c.rest[None])[0]))
        speech.append(speech_frames(frame_energy(c.audio, c.fps)[: c.frames]))
    return fit_open_p90(opens, [s[: len(o)] for o, s in zip(opens, speech, strict=True)])


def fit_normalisers(net: ExpressionNet, clips: list[Clip]) -> None:
    """Input/output statistics from the clean training data, stored in the checkpoint."""
    mel = np.concatenate([read_mel(model_features(c.audio), net.cfg) for c in clips])
    ident = np.concatenate([c.identity for c in clips])
    rel = (lambda c: c.rest_coeffs) if net.cfg.target == "rest" else (lambda c: c.coeffs[c.frontal_index])
    q = np.concatenate([c.coeffs - rel(c) for c in clips])
    with torch.no_grad():
        net.mel_mean.copy_(torch.from_numpy(mel.mean(0)))
        net.mel_std.copy_(torch.from_numpy(mel.std(0) + 1e-3))
        net.id_mean.copy_(torch.from_numpy(ident.mean(0)))
        net.id_std.copy_(torch.from_numpy(ident.std(0) + 1e-6))
        net.out_std.copy_(torch.from_numpy(q.std(0) + 1e-6))


def predicted_landmarks(c: Clip, q: np.ndarray, components: np.ndarray, target: str = "reference") -> np.ndarray:
    """The base shape (the reference frame, or the clip's rest) + predicted coefficients → (T, 468, 3)."""
    assert c.landmarks is not None
    disp = (q @ components[: q.shape[1]]).reshape(len(q), -1, 3)
    return (c.rest if target == "rest" else c.landmarks[c.frontal_index])[None] + disp


def score_clips(
    preds: list[np.ndarray], clips: list[Clip], components: np.ndarray, target: str = "reference"
) -> dict[str, float]:
    """Aperture r at lag 0, best lag, amplitude ratio, lip MSI ratio: medians over clips."""
    r0, lag, amp, msi_ratio = [], [], [], []
    for q, c in zip(preds, clips, strict=True):
        lm = predicted_landmarks(c, q, components, target)
        s = sync_scores(mouth_aperture(lm), c.aperture, max_lag=5)
        r0.append(s.r_lag0)
        lag.append(s.best_lag)
        amp.append(s.amplitude_ratio)
        assert c.landmarks is not None
        msi_ratio.append(msi_lips(lm) / msi_lips(c.landmarks))
    return {"aperture_r_lag0": float(np.median(r0)), "best_lag": float(np.median(lag)),
            "amplitude_ratio": float(np.median(amp)), "lip_msi_ratio": float(np.median(msi_ratio)),
            "clips": float(len(clips))}


def energy_baseline(clips: list[Clip]) -> dict[str, float]:
    """The log-energy baseline: frame loudness as the aperture signal (r and lag only; it has no scale)."""
    r0, lag = [], []
    for c in clips:
        e = frame_energy(c.audio, c.fps)[: c.frames]
        s = sync_scores(e, c.aperture[: len(e)], max_lag=5)
        r0.append(s.r_lag0)
        lag.append(s.best_lag)
    return {"aperture_r_lag0": float(np.median(r0)), "best_lag": float(np.median(lag)), "clips": float(len(clips))}


def psi_predictions(psi: ExpressionNet, clips: list[Clip], phonetic: PhoneticNet | None = None,
                    text: bool = False) -> list[np.ndarray]:
    """Ψ's coefficients for each clip (clean audio; with ``text``, its GRID sentence as the script)."""
    out = []
    for c in clips:
        mel = model_features(c.audio)
        ev = None
        if psi.hears_phones:
            assert phonetic is not None
            ev = clip_evidence(phonetic, [mel], [grid_sentence(c.key) if text else None])[0]
        out.append(predict_expression(psi, mel, c.frames, c.fps, c.identity[c.frontal_index], ev))
    return out


def validate(net: ExpressionNet, clips: list[Clip], components: np.ndarray, phonetic: PhoneticNet | None = None,
             ) -> dict[str, float]:
    net.eval()
    out = score_clips(psi_predictions(net, clips, phonetic), clips, components, net.cfg.target)
    if net.hears_phones and net.cfg.text_prob > 0:
        text = score_clips(psi_predictions(net, clips, phonetic, text=True), clips, components, net.cfg.target)
        out.update({f"text_{k}": v for k, v in text.items() if k != "clips"})
    return out


def groups(clips: list[Clip]) -> dict[str, list[Clip]]:
    """Validation groups: all held-out clips, s4 (the large held-out speaker) and the small speakers apart."""
    return {"all": clips, "s4": [c for c in clips if c.speaker == "s4"],
            "small": [c for c in clips if c.speaker != "s4"]}


def train_expression(
    split: dict[str, list[Clip]], components: np.ndarray, out: Path, cfg: ExpressionConfig,
    device: str = "cpu", resume: bool = True, progress: bool = True,
    visemes: dict[str, np.ndarray] | None = None, phones: list[tuple[np.ndarray, np.ndarray]] | None = None,
    phonetic: PhoneticNet | None = None,
) -> tuple[ExpressionNet, dict[str, Any]]:
    """Train Ψ on split['train'], reporting 'val_unseen' each epoch; the last epoch is kept (no selection).

    With ``cfg.phone_weight`` > 0, ``visemes`` (clip key → mouth class per 10 ms of the training clips) and
    ``phones`` (audio-only speech with its classes, ``core.data.phones``) teach the audio encoder what is said.
    """
    rng = seed_everything(cfg.seed)
    dev = pick_device(device)
    train = split["train"]
    if cfg.target == "rest":
        cfg.open_p90 = footage_open_p90(train)
    net = ExpressionNet(cfg)
    fit_normalisers(net, train)
    net.to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.epochs * -(-len(train) // cfg.batch_clips))
    start, history = 0, []
    state = load_state(out, net, opt) if resume else None
    if state is not None:
        if int(state.get("epochs", cfg.epochs)) != cfg.epochs:
            raise ParleyError(f"{out}: the saved state is for a {state['epochs']}-epoch schedule, not {cfg.epochs}; "
                              "resume with the same --epochs or pass --restart")
        start, history = int(state["epoch"]), list(state["history"])
        sched.load_state_dict(state["sched"])
        rng = np.random.default_rng(cfg.seed + start)
    pool = [c.audio for c in train]
    id_std = np.concatenate([c.identity for c in train]).std(0)
    val = split.get("val_unseen", [])
    for epoch in range(start, cfg.epochs):
        net.train()
        order = rng.permutation(len(train))
        batches = [order[i : i + cfg.batch_clips] for i in range(0, len(order), cfg.batch_clips)]
        bar = tqdm(batches, desc=f"expression {epoch + 1}/{cfg.epochs}", disable=not progress, leave=False)
        total = 0.0
        for idx in bar:
            b = make_batch([train[i] for i in idx], cfg, rng, pool, id_std, train=True,
                           visemes=visemes if net.phonetic else None, phonetic=phonetic)
            ev = None if b.evidence is None else b.evidence.to(dev)
            keep = None if b.keep_mel is None else b.keep_mel.to(dev)
            pred, logits = net.forward_with_phones(b.mel.to(dev), b.times.to(dev), b.identity.to(dev), ev, keep)
            loss = loss_fn(pred, Batch(b.mel, b.times, b.identity, b.target.to(dev), b.mask.to(dev)),
                           cfg.velocity_weight)
            if logits is not None and b.visemes is not None:
                loss = loss + cfg.phone_weight * phone_loss(logits, b.visemes.to(dev))
            if net.phonetic and phones:
                pick = rng.integers(len(phones), size=cfg.phone_batch)
                pm, pv = phone_batch([phones[i] for i in pick], cfg, rng, pool)
                loss = loss + cfg.phone_weight * phone_loss(net.phone_logits(pm.to(dev)), pv.to(dev))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            total += float(loss.detach())
            bar.set_postfix(loss=f"{float(loss.detach()):.4g}")
        net.cpu()
        m = {"epoch": epoch + 1, "train_loss": total / len(batches)}
        if val:
            m.update({f"unseen_{k}": v for k, v in validate(net, val, components, phonetic).items()})
        history.append(m)
        log.info("epoch %d: %s", epoch + 1, {k: round(v, 4) for k, v in m.items()})
        if progress:
            print(f"epoch {epoch + 1}: " + ", ".join(f"{k}={v:.4g}" for k, v in m.items() if k != "epoch"), flush=True)
        net.save(out, {"epochs": epoch + 1, **{k: v for k, v in m.items() if k != "epoch"}})
        net.to(dev)
        save_state(out, epoch + 1, net, opt, {"history": history, "sched": sched.state_dict(), "epochs": cfg.epochs})
    final = ExpressionNet.load(out)
    return final, {"history": history}
