"""``parley train renderer``: the refiner learns to turn warped frames into the real ones.

Pairs come from GRID videos: a clip's first frame is the photo; for a few later frames the warp
(``core.render.warp``) re-poses and re-expresses it with that frame's tracked motion (pose relative to the first
frame, ARKit weights fitted through the person's head), and the real frame is the target. All in 128² crops around
the face. Training uses the training speaker's clips; the held-out speakers' clips give the validation figures
(L1, and PSNR of the warp and of the refined warp against the real crops).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.models.refiner import RefinerConfig, RefinerNet

REPO = Path(__file__).resolve().parents[2]


def clip_pairs(source: Path, clip_npz: Path, frames: list[int], crop: int) -> list[tuple[np.ndarray, ...]]:
    """(warped, inner-mouth mask, reference, real) crops for ``frames`` of one clip (its frame 0 the photo)."""
    from core.face.ict import fit_head, load_head
    from core.face.media import iter_video_frames
    from core.face.neutral import clip_rest
    from core.render.video import stage_of
    from core.render.warp import WarpRenderer

    video = list(iter_video_frames(source, max_frames=max(frames) + 1))
    with np.load(clip_npz) as z:
        lm, pose = z["landmarks"], z["pose"]
    rest = clip_rest(lm)
    r = WarpRenderer(stage_of(video[0], rest), max(video[0].shape[:2]))
    identity = fit_head(rest, load_head(), expression=False).identity
    ref = r.crop(r.photo, crop)
    out: list[tuple[np.ndarray, ...]] = []
    for t in frames:
        if t >= min(len(video), len(lm)):
            continue
        img = r.frame(fit_head(lm[t], load_head(), identity=identity).arkit, (pose[t] - pose[0]).astype(np.float32))
        real = video[t][: img.shape[0], : img.shape[1]]
        out.append((r.crop(img, crop), r.crop(r.inner_mask, crop), ref, r.crop(real, crop)))
    return out


def make_pairs(
    data: Path, split: str, cfg: RefinerConfig, limit: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    from core.data.splits import REST_SPEAKERS, split_of

    clips = [c for c in json.loads((data / "manifest.json").read_text())["clips"]
             if split_of(c["key"], c["speaker"]) == split and (REPO / c["source"]).is_file()
             and (split != "val_unseen" or c["speaker"] not in REST_SPEAKERS)]  # fmt: skip
    rng.shuffle(clips)  # type: ignore[arg-type]
    pairs: list[tuple[np.ndarray, ...]] = []
    for c in clips[:limit]:
        frames = sorted(rng.choice(np.arange(5, c["frames"]), size=cfg.frames_per_clip, replace=False).tolist())
        try:
            pairs += clip_pairs(REPO / c["source"], data / c["file"], frames, cfg.crop)
        except Exception as exc:  # noqa: BLE001 — a clip the tracker cannot use is skipped, not fatal
            print(f"skipped {c['key']}: {exc}")
    w, m, r, y = (np.stack([p[i] for p in pairs]) for i in range(4))
    return {"warped": w, "mask": m.astype(np.float32), "reference": r, "real": y}


def _batch(d: dict[str, np.ndarray], idx: np.ndarray) -> tuple[torch.Tensor, ...]:
    t = lambda a: torch.from_numpy(a[idx].astype(np.float32) / 255.0).permute(0, 3, 1, 2)  # noqa: E731
    return t(d["warped"]), torch.from_numpy(d["mask"][idx])[:, None], t(d["reference"]), t(d["real"])


def psnr_t(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a - b) ** 2).mean())
    return 10 * np.log10(1.0 / max(mse, 1e-10))


def train_renderer(data: Path, out: Path, cfg: RefinerConfig, val_clips: int = 12) -> tuple[RefinerNet, dict[str, Any]]:
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    t0 = time.perf_counter()
    train = make_pairs(data, "train", cfg, cfg.clips, rng)
    val = make_pairs(data, "val_unseen", cfg, val_clips, rng)
    print(f"pairs: {len(train['real'])} train, {len(val['real'])} val ({time.perf_counter() - t0:.0f} s)")
    net = RefinerNet(cfg)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)
    n = len(train["real"])
    history = []
    for step in range(cfg.steps):
        idx = rng.choice(n, size=min(cfg.batch, n), replace=False)
        w, m, r, y = _batch(train, idx)
        if rng.random() < 0.5:  # mirrored faces are faces too
            w, m, r, y = (x.flip(-1) for x in (w, m, r, y))
        loss = (net(w, m, r) - y).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == cfg.steps - 1:
            history.append({"step": step, "l1": round(float(loss.detach()), 5)})
            print(history[-1])
    net.eval()
    with torch.no_grad():
        w, m, r, y = _batch(val, np.arange(len(val["real"])))
        got = net(w, m, r)
        metrics = {"val_pairs": len(val["real"]), "train_pairs": n, "val_l1_warp": float((w - y).abs().mean()),
                   "val_l1_refined": float((got - y).abs().mean()), "val_psnr_warp": psnr_t(w, y),
                   "val_psnr_refined": psnr_t(got, y), "steps": cfg.steps,
                   "seconds": round(time.perf_counter() - t0, 1), "history": history}  # fmt: skip
    net.save(out, metrics)
    return net, metrics
