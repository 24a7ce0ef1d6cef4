"""``parley train live``: distil the offline pipeline into the causal Ψ-live (``core.models.live``).

The teacher is ``core.animate.speech_curves`` — the shipped phonetic encoder, Ψ, smoothing, lip range and closures,
Φ and the head style — run on each training voice with the whole clip in view, at 100 frames/s, for a face drawn
from the identity spread Ψ was trained on. The student hears the same audio (with noise and gain added, so it learns
to be robust where the teacher heard it clean) one mel frame at a time and must say, ``lookahead_s`` after a frame's
start, what the teacher said for that frame.

Voices: GRID's training speaker (s1's training clips, ``core.data.splits``) and LibriSpeech's train-clean-100 readers;
held out: GRID s4 and the small speakers, and LibriSpeech test-other. Only audio is used: no footage is needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.models.live import LiveConfig, LiveNet, running_normalise, silence_rows

AUDIO = (".flac", ".wav", ".mp4", ".mp3", ".ogg")


@dataclass
class Voice:
    """One clip: its audio, the face the teacher animated, and the teacher's curves at 100 frames/s."""

    name: str
    group: str  # "train" | a held-out group's name
    samples: np.ndarray
    identity: np.ndarray  # (20,) identity feature
    rest: np.ndarray  # (468, 3)
    target: np.ndarray  # (T, 26): expression (20) and pose (6)


def find_voices(folders: list[Path], per_folder: int = 10_000) -> list[tuple[Path, str]]:
    """Audio files under ``folders`` with their group: GRID speakers split as everywhere else, LibriSpeech's
    test-other held out."""
    from core.data.splits import split_of

    out: list[tuple[Path, str]] = []
    per_reader: dict[str, int] = {}
    for folder in folders:
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO and p.is_file())
        grid = "grid" in str(folder).lower()
        taken = 0
        for p in files:
            if grid:
                split = split_of(f"{p.parent.name}_{p.stem}", p.parent.name)
                group = {"train": "train", "val_seen": "skip", "val_unseen": "grid_unseen"}[split]
                if group == "train":
                    taken += 1
                    group = group if taken <= per_folder else "skip"
            elif "test" in str(p.relative_to(folder)).split("/")[0]:
                per_reader[p.parent.name] = per_reader.get(p.parent.name, 0) + 1
                group = "libri_test_other" if per_reader[p.parent.name] <= HELD_PER_READER else "skip"
            else:
                group = "train"
            if group != "skip":
                out.append((p, group))
    return out


#: Utterances per held-out LibriSpeech reader (ten readers).
HELD_PER_READER = 3


def synthetic_voices(out: Path, per_voice: int = 60, espeak_n: int = 12, per_espeak: int = 15, seed: int = 0,
                     log: Any = print) -> Path:
    """Synthetic read speech to distil on as well (``out/<voice>/<k>.wav``; resumable): the voices the phonetic
    encoder learnt from (``core.data.tts.TRAIN_VOICES``, the festival and flite ones) and ``espeak_n`` espeak-ng
    voices at varied rate and pitch, each saying sentences of its own (``core.data.sentences``). The other festival
    and flite voices are left for the benchmark."""
    import soundfile as sf

    from core.data.sentences import make_sentences
    from core.data.tts import TRAIN_VOICES, available, espeak_utterance, espeak_voices, synthesize

    voices = [(v, per_voice) for v in TRAIN_VOICES] + [(v, per_espeak) for v in espeak_voices(espeak_n, seed)]
    texts = make_sentences(sum(n for _, n in voices), seed + 7)
    rng = np.random.default_rng(seed)
    k = 0
    for voice, n in voices:
        folder = out / voice.replace(":", "_").replace("+", "_")
        ok = available(voice) if not voice.startswith("espeak:") else True
        for _ in range(n):
            text, k = texts[k], k + 1
            rate, pitch = int(rng.integers(130, 200)), int(rng.integers(20, 80))
            path = folder / f"{k:05d}.wav"
            failed = path.with_suffix(".failed")  # espeak-ng lines PocketSphinx cannot align are left out, once
            if path.is_file() or failed.is_file() or not ok:
                continue
            u = espeak_utterance(text, voice, rate, pitch) if voice.startswith("espeak:") else synthesize(text, voice)
            folder.mkdir(parents=True, exist_ok=True)
            if u is not None:
                sf.write(path, u.samples, 16000, subtype="PCM_16")
            else:
                failed.touch()
        log(f"synthetic voices: {voice} done")
    return out


def face_spread(folders: list[Path], log: Any = print) -> tuple[np.ndarray, np.ndarray]:
    """Mean and per-coefficient spread of real faces' identity features: the built-in portrait and the first clip of
    each GRID speaker that sets Parley's priors (``core.data.splits.REST_SPEAKERS``; never a held-out one). Real faces
    lie 5–15 of Ψ's own (training-set) spreads from its mean, so faces drawn from that would be far too alike."""
    from core.data.splits import REST_SPEAKERS
    from core.errors import ParleyError
    from core.loading import default_models
    from core.models.expression import identity_feature
    from core.reference import face_reference

    m = default_models()
    refs = [face_reference(None)]
    for folder in folders:
        if "grid" in str(folder).lower():
            for spk in REST_SPEAKERS:
                clips = sorted((folder / spk).glob("*.mp4"))
                try:
                    refs += [face_reference(clips[0])] if clips else []
                except ParleyError as exc:
                    log(f"face spread: skipped {spk}: {exc}")
    feats = np.stack([identity_feature(r.identity, m.canonical, m.pca.components)[:20] for r in refs])
    log(f"face spread: {len(refs)} faces")
    return feats.mean(0), feats.std(0) + 0.25 * feats.std(0).mean()


def teach(files: list[tuple[Path, str]], seed: int = 0, log: Any = print,
          spread: tuple[np.ndarray, np.ndarray] | None = None) -> list[Voice]:
    """The teacher's curves for every file (a face drawn per clip from ``spread``: mean and std of real faces'
    identity features, ``face_spread``)."""
    from core.animate import speech_curves
    from core.audio.decode import load_audio
    from core.audio.features import frame_count
    from core.errors import ParleyError
    from core.loading import default_models
    from core.reference import Reference

    m = default_models()
    rng = np.random.default_rng(seed)
    comps = m.pca.components[:20].astype(np.float64)
    if spread is None:
        spread = (m.expression.id_mean.numpy(), m.expression.id_std.numpy())
    mean, std = (np.asarray(spread[0], np.float64), np.asarray(spread[1], np.float64))
    out, t0 = [], time.perf_counter()
    for i, (path, group) in enumerate(files):
        try:
            audio = load_audio(path, max_seconds=60.0)
        except ParleyError as exc:
            log(f"skipped {path}: {exc}")
            continue
        ident = mean + std * np.clip(rng.normal(0.0, 1.0, 20), -2.5, 2.5)
        rest = (m.canonical + (ident @ comps).reshape(-1, 3)).astype(np.float32)
        n = frame_count(audio.duration, 100.0)
        c = speech_curves(m, audio.samples, n, 100.0, Reference(rest, "teacher"), seed=i)
        target = np.concatenate([c.expression, c.pose], axis=1).astype(np.float32)
        out.append(Voice(path.stem, group, audio.samples, ident.astype(np.float32), rest, target))
        if (i + 1) % 100 == 0:
            log(f"teacher: {i + 1}/{len(files)} clips, {time.perf_counter() - t0:.0f} s")
    return out


def student_mel(samples: np.ndarray, cfg: LiveConfig, prior: np.ndarray, rng: np.random.Generator | None = None,
                noise_prob: float = 0.0) -> np.ndarray:
    """What Ψ-live hears for a clip: its log-mel, running-normalised (with noise and gain when ``rng`` is given),
    after ``receptive_frames`` rows of silence (``silence_rows``): row j + receptive_frames is mel frame j."""
    from core.audio.features import log_mel
    from core.train.augment import coloured_noise, mix_at_snr

    x = np.asarray(samples, np.float32)
    if rng is not None:
        if rng.random() < noise_prob:
            x = mix_at_snr(x, coloured_noise(len(x), str(rng.choice(["white", "pink", "brown"])), rng),
                           float(rng.uniform(8, 30)))
        x = x * np.float32(10 ** (rng.uniform(-12, 6) / 20))
    mel = running_normalise(log_mel(x), prior, cfg.prior_frames)
    return np.concatenate([silence_rows(prior, cfg.receptive_frames), mel])


def loud_mean(voices: list[Voice], cfg: LiveConfig) -> np.ndarray:
    """The prior of the running mean: the mean log-mel of the training voices' loud frames."""
    from core.audio.features import log_mel
    from core.models.live import LOUD_RANGE

    rows = []
    for v in voices[:400]:
        mel = log_mel(v.samples)
        e = mel.mean(1)
        rows.append(mel[e >= e.max() - LOUD_RANGE])
    return np.concatenate(rows).mean(0).astype(np.float32)


def _batch(items: list[tuple[np.ndarray, np.ndarray, np.ndarray]], cfg: LiveConfig, rng: np.random.Generator,
           ) -> tuple[torch.Tensor, ...]:
    """Random crops → (mel (B, F, 80), identity (B, 20), target (B, F, 26), mask (B, F))."""
    crop = int(cfg.crop_s * 100)
    la = cfg.lookahead_frames + cfg.receptive_frames  # row j of the prefixed mel describes teacher frame j − la
    mels, ids, tgts, masks = [], [], [], []
    for mel, ident, target in items:
        f = min(len(mel), len(target) + la)
        s = int(rng.integers(0, max(1, f - crop + 1)))
        e = min(f, s + crop)
        m = np.zeros((crop, mel.shape[1]), np.float32)
        m[: e - s] = mel[s:e]
        t = np.zeros((crop, target.shape[1]), np.float32)
        k = np.zeros(crop, np.float32)
        j = np.arange(s, e)
        ok = (j - la >= 0) & (j - la < len(target)) & (j - s >= cfg.receptive_frames - 1)
        t[: e - s][ok] = target[(j - la)[ok]]
        k[: e - s][ok] = 1.0
        mels.append(m)
        ids.append(ident)
        tgts.append(t)
        masks.append(k)
    return (torch.from_numpy(np.stack(mels)), torch.from_numpy(np.stack(ids)), torch.from_numpy(np.stack(tgts)),
            torch.from_numpy(np.stack(masks)))


@torch.no_grad()
def student_curves(net: LiveNet, mel: np.ndarray, identity: np.ndarray, frames: int) -> np.ndarray:
    """A whole clip (``student_mel``) through Ψ-live at once (the same numbers as frame by frame): (frames, 26) at
    100 frames/s."""
    out = net(torch.from_numpy(mel)[None], torch.from_numpy(identity)[None])[0].numpy()
    la = net.cfg.lookahead_frames + net.cfg.receptive_frames
    got = out[la : la + frames]
    if len(got) < frames:  # the clip's last frames: the look-ahead runs past the end (the stream pads silence)
        got = np.concatenate([got, np.repeat(got[-1:], frames - len(got), 0)])
    return got


def evaluate(net: LiveNet, voices: list[Voice], open_dirs: list[np.ndarray], prior: np.ndarray,
             ) -> dict[str, dict[str, float]]:
    """Per held-out group: the mouth opening's correlation with the teacher's (r), and the opening's RMS error."""
    groups: dict[str, list[tuple[float, float]]] = {}
    net.eval()
    for v, d in zip(voices, open_dirs, strict=True):
        mel = student_mel(v.samples, net.cfg, prior)
        got = student_curves(net, mel, v.identity, len(v.target))
        a, b = got[:, :20] @ d, v.target[:, :20] @ d
        r = float(np.corrcoef(a, b)[0, 1]) if a.std() > 1e-8 and b.std() > 1e-8 else 0.0
        groups.setdefault(v.group, []).append((r, float(np.sqrt(np.mean((a - b) ** 2)))))
    return {g: {"opening_r": round(float(np.mean([x[0] for x in rs])), 4),
                "opening_rmse": round(float(np.mean([x[1] for x in rs])), 4), "clips": len(rs)}
            for g, rs in groups.items()}


def train_live(voices: list[Voice], cfg: LiveConfig, out: Path, log: Any = print) -> dict[str, Any]:
    """Fit Ψ-live to the teacher's curves; writes ``out``; the report (per-epoch loss, held-out agreement)."""
    from core.loading import default_models
    from core.models.articulation import unit_open_dir

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    m = default_models()
    train = [v for v in voices if v.group == "train"]
    held = [v for v in voices if v.group != "train"]
    prior = loud_mean(train, cfg)
    open_dirs = [unit_open_dir(v.rest, m.pca.components, m.neutral.opening, 20) for v in held]
    net = LiveNet(cfg)
    clean = [student_mel(v.samples, cfg, prior)[cfg.receptive_frames :] for v in train]
    allmel = np.concatenate(clean)
    targets = np.concatenate([v.target for v in train])
    ids = np.stack([v.identity for v in train])
    net.mel_mean.copy_(torch.from_numpy(allmel.mean(0)))
    net.mel_std.copy_(torch.from_numpy(allmel.std(0) + 1e-3))
    net.id_mean.copy_(torch.from_numpy(ids.mean(0)))
    net.id_std.copy_(torch.from_numpy(ids.std(0) + 1e-6))
    net.out_std.copy_(torch.from_numpy(targets.std(0) + 1e-6))
    net.prior.copy_(torch.from_numpy(prior))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * max(1, len(train) // cfg.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=steps, pct_start=0.1)
    w = torch.ones(cfg.n_coeffs + cfg.n_pose)
    w[cfg.n_coeffs :] = cfg.pose_weight
    # the opening of the average face, in coefficient units, and the teacher's spread along it
    d = torch.from_numpy(unit_open_dir(m.canonical.astype(np.float32), m.pca.components, m.neutral.opening, 20))
    open_std = float((torch.from_numpy(targets[:, :20]) @ d).std()) + 1e-6
    history = []
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        net.train()
        if epoch % max(1, cfg.noise_every) == 0:  # fresh noise every few epochs
            noisy = [student_mel(v.samples, cfg, prior, rng, cfg.noise_prob) for v in train]
        order = rng.permutation(len(train))
        losses = []
        for s in range(0, len(order) - cfg.batch + 1, cfg.batch):
            items = [(noisy[i], train[i].identity, train[i].target) for i in order[s : s + cfg.batch]]
            mel, ident, tgt, mask = _batch(items, cfg, rng)
            pred = net(mel, ident)
            scale = net.out_std
            err = ((pred - tgt) / scale) ** 2 * w
            vel = (((pred[:, 1:] - pred[:, :-1]) - (tgt[:, 1:] - tgt[:, :-1])) / scale) ** 2 * w
            vm = mask[:, 1:] * mask[:, :-1]
            opened = (((pred[..., :20] - tgt[..., :20]) @ d) / open_std) ** 2
            loss = ((err.mean(-1) + cfg.open_weight * opened) * mask).sum() / mask.sum() \
                + cfg.velocity_weight * (vel.mean(-1) * vm).sum() / vm.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        row: dict[str, Any] = {"epoch": epoch + 1, "loss": round(float(np.mean(losses)), 4),
                               "seconds": round(time.perf_counter() - t0, 1)}
        if epoch == cfg.epochs - 1 or (epoch + 1) % 4 == 0:
            row["held_out"] = evaluate(net, held, open_dirs, prior)
        history.append(row)
        log(row)
    net.eval()
    metrics = {"epochs": cfg.epochs, "history": history, "held_out": history[-1].get("held_out"),
               "train_clips": len(train), "train_minutes": round(sum(len(v.samples) for v in train) / 16000 / 60, 1),
               "teacher": "core.animate.speech_curves with the shipped checkpoints"}
    net.save(out, metrics)
    return metrics


def run(folders: list[Path], out: Path, cfg: LiveConfig, cache: Path | None = None, grid_clips: int = 600,
        log: Any = print) -> dict[str, Any]:
    """Find the voices, run (or reload) the teacher, train; the report."""
    voices = load_cache(cache) if cache is not None and cache.is_file() else None
    if voices is None:
        files = find_voices(folders, grid_clips)
        log(f"teacher: {len(files)} clips")
        voices = teach(files, cfg.seed, log, face_spread(folders, log))
        if cache is not None:
            save_cache(cache, voices)
    return train_live(voices, replace(cfg), out, log)


def save_cache(path: Path, voices: list[Voice]) -> None:
    """The teacher's work, kept so another look-ahead can be trained without re-running it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {"names": np.array([v.name for v in voices]),
                                     "groups": np.array([v.group for v in voices])}
    for i, v in enumerate(voices):
        arrays[f"s{i}"] = (v.samples * 32767).astype(np.int16)
        arrays[f"i{i}"] = v.identity
        arrays[f"r{i}"] = v.rest
        arrays[f"t{i}"] = v.target
    np.savez(path, **arrays)


def load_cache(path: Path) -> list[Voice]:
    with np.load(path, allow_pickle=False) as z:
        return [Voice(str(n), str(g), z[f"s{i}"].astype(np.float32) / 32767, z[f"i{i}"], z[f"r{i}"], z[f"t{i}"])
                for i, (n, g) in enumerate(zip(z["names"], z["groups"], strict=True))]
