"""``parley train renderer``: the refiner learns to turn warped mouths into the real ones.

Pairs come from GRID videos: a clip's first frame is the photo; for a few later frames the warp
(``core.render.warp``) re-poses and re-expresses it with that frame's tracked motion (pose relative to the first
frame, ARKit weights fitted through the person's head), and the real frame is the target, both in the refiner's
window on the mouth. Training uses the training speaker's clips; held-out speaker s4's clips — never the ones
``benchmarks/bench_render.py`` scores (``bench_clips``) — choose the step to keep and give the validation figures
(L1 and PSNR of the warp and of the refined warp against the real windows). The other held-out speakers stay out
of training and of every choice: the benchmark reports them as their own group.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.face.geometry import open_frame
from core.models.refiner import RefinerConfig, RefinerNet

REPO = Path(__file__).resolve().parents[2]
#: The held-out speaker whose clips (not the benchmark's) choose the training step to keep.
VAL_SPEAKER = "s4"


def bench_clips(clips: list[dict[str, Any]], n: int = 6) -> list[dict[str, Any]]:
    """The held-out clips ``bench_render`` scores: half speaker s4's first, half the small held-out speakers'."""
    from core.data.splits import REST_SPEAKERS

    held = [c for c in clips if c["speaker"] not in (*REST_SPEAKERS, "s1")]
    chosen = [c for c in held if c["speaker"] == "s4"][: n // 2]
    return chosen + [c for c in held if c["speaker"] != "s4"][: n - len(chosen)]


def clip_pairs(source: Path, clip_npz: Path, frames: list[int], crop: int,
               reference: str = "photo") -> list[tuple[np.ndarray, ...]]:
    """(warped, inner-mouth mask, reference, real) windows for ``frames`` of one clip (its frame 0 the photo; the
    reference the photo's mouth, or with ``reference="open"`` the clip's most open mouth away from the targets)."""
    from core.face.media import iter_video_frames

    video = list(iter_video_frames(source))
    with np.load(clip_npz) as z:
        lm, pose = z["landmarks"], z["pose"]
    n = min(len(video), len(lm))
    wanted = [t for t in frames if t < n]
    u = open_frame(lm[:n], pose[:n], 0, avoid=wanted) if reference == "open" else None
    return warp_pairs(video[0], lm, pose, 0, {t: video[t] for t in wanted}, crop,
                      None if u is None else (video[u], u))


def warp_pairs(
    photo: np.ndarray, landmarks: np.ndarray, pose: np.ndarray, photo_index: int, frames: dict[int, np.ndarray],
    crop: int, reference: tuple[np.ndarray, int] | None = None,
) -> list[tuple[np.ndarray, ...]]:
    """(warped, inner-mouth mask, reference, real) windows: ``photo`` (frame ``photo_index`` of a track with
    expression ``landmarks`` (T, 468, 3) and ``pose`` (T, 6)) warped to each of ``frames`` {index: real frame}; the
    reference window is the photo's mouth, or ``reference`` (another frame, its index)'s."""
    import cv2

    from core.face.ict import fit_head, load_head
    from core.face.neutral import clip_rest
    from core.render.video import stage_of
    from core.render.warp import WarpRenderer

    rest = clip_rest(landmarks)
    r = WarpRenderer(stage_of(photo, rest), max(photo.shape[:2]))
    identity = fit_head(rest, load_head(), expression=False).identity
    ref = r.crop(r.photo, crop)
    if reference is not None:
        rgb, u = reference
        arkit = fit_head(landmarks[u], load_head(), identity=identity).arkit
        ref = r.reference_window(rgb, arkit, (pose[u] - pose[photo_index]).astype(np.float32), crop)
    out: list[tuple[np.ndarray, ...]] = []
    for t, real in frames.items():
        arkit = fit_head(landmarks[t], load_head(), identity=identity).arkit
        img = r.frame(arkit, (pose[t] - pose[photo_index]).astype(np.float32))
        if real.shape[:2] != img.shape[:2]:
            real = cv2.resize(real, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_AREA)
        out.append((r.crop(img, crop), r.crop(r.inner_mask, crop), ref, r.crop(real, crop)))
    return out


def _fit(rgb: np.ndarray, size: int) -> np.ndarray:
    """``rgb`` no larger than ``size`` on its long side."""
    import cv2

    k = size / max(rgb.shape[:2])
    if k >= 1:
        return rgb
    return cv2.resize(rgb, (round(rgb.shape[1] * k), round(rgb.shape[0] * k)), interpolation=cv2.INTER_AREA)


def person_pairs(
    video: Path, crop: int, pairs: int = 320, max_seconds: float = 180.0, size: int = 512,
    progress: Any = None, reference: str = "photo",
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Pairs from a person's own footage (``parley train renderer --person``): the most frontal frame of the first
    four fifths is the photo, ``pairs`` frames spread over the first ``max_seconds`` the targets; the last fifth (in
    time) is kept apart for validation. (train, val), each at most ``size`` px on the long side.

    Raises:
        ParleyError: a video too short to learn from (under 5 s).
        FaceNotFound, FaceTooSmall: as the tracker says.
    """
    from core.data.filters import parley_filter
    from core.errors import ParleyError
    from core.face.canonical import canonical_face
    from core.face.media import iter_video_frames, video_info
    from core.face.tracker import track_video

    info = video_info(video)
    limit = int(max_seconds * info.fps)
    track = track_video(video, max_frames=limit, progress=progress)
    n = len(track.landmarks)
    if n < 5 * track.fps:
        raise ParleyError(f"{video}: {n / max(track.fps, 1):.1f} s of video; --person needs at least 5 s of the "
                          "person talking (a minute is better)")
    parts = parley_filter(track.landmarks, canonical_face())
    split = int(n * 0.8)
    usable = np.where(track.found)[0]
    picks = np.unique(np.linspace(0, len(usable) - 1, min(pairs, len(usable))).round().astype(int))
    lm, pose = parts.expression_landmarks, parts.pose
    at = int(np.argmin(np.linalg.norm(pose[:split, :3], axis=1)))
    u = open_frame(lm[:split], pose[:split], at) if reference == "open" else None
    extra = {at} | ({u} if u is not None else set())
    wanted = set(usable[picks].tolist()) - extra
    frames = {t: _fit(rgb, size) for t, rgb in enumerate(iter_video_frames(video, max_frames=n)) if t in wanted | extra}
    photo = frames.pop(at)
    ref = None if u is None else (frames.pop(u), u)
    made = dict(zip(frames, warp_pairs(photo, lm, pose, at, frames, crop, ref), strict=True))
    out = []
    for keep in ([t for t in made if t < split], [t for t in made if t >= split]):
        w, m, r, y = (np.stack([made[t][i] for t in keep]) for i in range(4))
        out.append({"warped": w, "mask": m.astype(np.float32), "reference": r, "real": y})
    return out[0], out[1]


def make_pairs(
    data: Path, split: str, cfg: RefinerConfig, limit: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    from core.data.splits import split_of

    every = json.loads((data / "manifest.json").read_text())["clips"]
    scored = {c["key"] for c in bench_clips(every)}
    clips = [c for c in every if split_of(c["key"], c["speaker"]) == split and (REPO / c["source"]).is_file()
             and c["key"] not in scored and (split != "val_unseen" or c["speaker"] == VAL_SPEAKER)]
    rng.shuffle(clips)  # type: ignore[arg-type]
    pairs: list[tuple[np.ndarray, ...]] = []
    for c in clips[:limit]:
        frames = sorted(rng.choice(np.arange(5, c["frames"]), size=cfg.frames_per_clip, replace=False).tolist())
        try:
            pairs += clip_pairs(REPO / c["source"], data / c["file"], frames, cfg.crop, cfg.reference)
        except Exception as exc:  # noqa: BLE001 — a clip the tracker cannot use is skipped, not fatal
            print(f"skipped {c['key']}: {exc}")
    w, m, r, y = (np.stack([p[i] for p in pairs]) for i in range(4))
    return {"warped": w, "mask": m.astype(np.float32), "reference": r, "real": y}


def cached_pairs(data: Path, split: str, cfg: RefinerConfig, limit: int, cache: Path | None) -> dict[str, np.ndarray]:
    """``make_pairs``, kept in ``cache`` (a folder) under a name of what made them, so a second run skips the warp."""
    key = json.dumps([split, limit, cfg.crop, cfg.frames_per_clip, cfg.seed, str(data)]
                     + ([cfg.reference] if cfg.reference != "photo" else []))
    path = None if cache is None else cache / f"pairs_{split}_{hashlib.sha1(key.encode()).hexdigest()[:10]}.npz"
    if path is not None and path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    pairs = make_pairs(data, split, cfg, limit, np.random.default_rng([cfg.seed, len(split)]))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **pairs)
    return pairs


def _batch(d: dict[str, np.ndarray], idx: np.ndarray) -> tuple[torch.Tensor, ...]:
    t = lambda a: torch.from_numpy(a[idx].astype(np.float32) / 255.0).permute(0, 3, 1, 2)  # noqa: E731
    return t(d["warped"]), torch.from_numpy(d["mask"][idx])[:, None], t(d["reference"]), t(d["real"])


def augment(batch: tuple[torch.Tensor, ...], cfg: RefinerConfig, g: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Mirror, a per-channel colour gain shared by input, reference and target (other skins, other lights), and the
    input window shifted against the target by up to ``cfg.jitter`` pixels (the tracker's noise)."""
    w, m, r, y = batch
    b = len(w)
    if torch.rand(1, generator=g).item() < 0.5:  # mirrored faces are faces too
        w, m, r, y = (x.flip(-1) for x in (w, m, r, y))
    if cfg.colour > 0:
        gain = 1.0 + cfg.colour * (2 * torch.rand(b, 3, 1, 1, generator=g) - 1)
        w, r, y = ((x * gain).clamp(0, 1) for x in (w, r, y))
    if cfg.jitter > 0:
        shift = cfg.jitter * (2 * torch.rand(b, 2, generator=g) - 1) * 2 / w.shape[-1]
        theta = torch.zeros(b, 2, 3)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, :, 2] = shift
        grid = torch.nn.functional.affine_grid(theta, list(w.shape), align_corners=False)
        w = torch.nn.functional.grid_sample(w, grid, padding_mode="border", align_corners=False)
        m = torch.nn.functional.grid_sample(m, grid, padding_mode="border", align_corners=False)
    return w, m, r, y


def loss_of(got: torch.Tensor, want: torch.Tensor, gradient_weight: float) -> torch.Tensor:
    """L1, plus L1 of the horizontal and vertical differences (keeps lip edges and teeth sharp)."""
    loss = (got - want).abs().mean()
    if gradient_weight > 0:
        for dim in (-1, -2):
            loss = loss + gradient_weight * (got.diff(dim=dim) - want.diff(dim=dim)).abs().mean()
    return loss


def psnr_t(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a - b) ** 2).mean())
    return 10 * np.log10(1.0 / max(mse, 1e-10))


@torch.no_grad()
def evaluate(net: RefinerNet, pairs: dict[str, np.ndarray]) -> dict[str, float]:
    w, m, r, y = _batch(pairs, np.arange(len(pairs["real"])))
    got = net.eval()(w, m, r)
    return {"l1_warp": float((w - y).abs().mean()), "l1_refined": float((got - y).abs().mean()),
            "psnr_warp": psnr_t(w, y), "psnr_refined": psnr_t(got, y)}


def train_renderer(
    data: Path, out: Path, cfg: RefinerConfig, val_clips: int = 16, cache: Path | None = None,
    init: Path | None = None, train_pairs: dict[str, np.ndarray] | None = None,
    val_pairs: dict[str, np.ndarray] | None = None,
) -> tuple[RefinerNet, dict[str, Any]]:
    """Train (or, from ``init``, fine-tune) a refiner; the step with the lowest validation L1 is the one saved.
    ``train_pairs``, ``val_pairs``: pairs made elsewhere (a person's own video) instead of GRID's."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    t0 = time.perf_counter()
    train = train_pairs if train_pairs is not None else cached_pairs(data, "train", cfg, cfg.clips, cache)
    val = val_pairs if val_pairs is not None else cached_pairs(data, "val_unseen", cfg, val_clips, cache)
    print(f"pairs: {len(train['real'])} train, {len(val['real'])} val ({time.perf_counter() - t0:.0f} s)")
    net = RefinerNet.load(init) if init is not None else RefinerNet(cfg)
    if init is not None:
        net.cfg = cfg  # the fine-tune's own settings go into its checkpoint (the architecture is the base's)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps)
    n = len(train["real"])
    history: list[dict[str, Any]] = []
    best = evaluate(net, val) | {"step": 0}
    best_state = {k: v.clone() for k, v in net.state_dict().items()}
    for step in range(1, cfg.steps + 1):
        net.train()
        idx = rng.choice(n, size=min(cfg.batch, n), replace=False)
        w, m, r, y = augment(_batch(train, idx), cfg, g)
        loss = loss_of(net(w, m, r), y, cfg.gradient_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == cfg.steps:
            v = evaluate(net, val)
            history.append({"step": step, "loss": round(float(loss.detach()), 5), "val_l1": round(v["l1_refined"], 5)})
            print(history[-1], flush=True)
            if v["l1_refined"] < best["l1_refined"]:
                best = v | {"step": step}
                best_state = {k: t.clone() for k, t in net.state_dict().items()}
    net.load_state_dict(best_state)
    net.eval()
    metrics = {"val_pairs": len(val["real"]), "train_pairs": n, "kept_step": best["step"],
               **{f"val_{k}": v for k, v in best.items() if k != "step"}, "steps": cfg.steps,
               "seconds": round(time.perf_counter() - t0, 1), "history": history, "config": asdict(cfg)}
    net.save(out, metrics)
    return net, metrics
