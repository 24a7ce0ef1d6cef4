"""The renderer against real frames, and driven by audio on real interview photos.

    .venv/bin/python benchmarks/bench_render.py [--grid data/grid] [--dev-av ../shared/data/dev-av] [--clips 6]
                                                [--dev-seconds 10] [--speed-frames 20] [--refiner FILE] [--out DIR]

1. **Speed**: frames per second at 256 and 512 px on the demo photo (median of ``--speed-frames``), plain warp and
   warp + refiner, in one run; and ``parley render`` as a person runs it — a fresh command, start-up, face
   reconstruction and MP4 encoding included — on the demo voice (10.2 s, 307 frames) at 512 px.
2. **Re-rendered GRID clips** (held-out speakers, never trained on): the first video frame is the photo; every
   frame's tracked motion — head pose relative to the first frame, and the expression as ARKit weights fitted
   through the person's head (``core.face.ict.fit_head``) — drives the renderer; the rendered frames are compared
   with the real ones: SSIM and PSNR on the face's box and on the mouth's (the refiner's window), mouth LMD
   (MediaPipe's lip points tracked on both, pixels) and lip MSI (steadiness of the rendered lips; the real clip's
   beside it). Groups: speaker s4 (whose other clips chose the refiner's training step) and the small held-out
   speakers (in no choice at all). Rows: the plain 3D-aware warp — the baseline — and the warp repaired by the
   refiner (``parley train renderer``).
3. **Driven by audio on dev-av photos**: each interview's first frame is the photo and its first ``--dev-seconds``
   of audio the voice; ``core.animate`` makes the result, the renderer plays it; MediaPipe must find the face in
   the rendered frames (target ≥ 95 %), and the rendered mouth's aperture must follow the result's (r ≥ 0.7).
   A strip of frames per clip and method goes to ``--out`` (outside the repository: dev-av stays out of it), and
   ``CLIP_mouths.png``: the mouths of the real talker's most open scored frames (top row), then each method's
   (a row each, in the table's order), as the inside's colour is measured.
4. **Inside of the mouth** (GRID and dev-av): the mean CIELAB colour of the inner lip's inside over the real
   talker's 20 % most open frames, rendered against real (dE), and the share of teeth (``core.metrics.mouth``).
   "plain, face video" is the plain warp given the clip as a face video: the inside's colour from its 20 % most
   open frames (16 at most; GRID: within 12° of the photo's turn, as ``parley render`` picks them; dev-av: of the
   frames tracked), the head's teeth and inside then matched to them through the warp (``core.render.inside``);
   those frames are left out of every method's scoring. GRID's mouths go to ``--out`` as ``grid_CLIP_mouths.png``:
   the real talker's six most open scored frames on top, each method's render of the same frames below.
   ``--tune`` scores the rest-model speakers' clips instead, to choose the renderer's settings on (never the held-out
   speakers the table reports).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: Methods given the footage as a face video: the mouth's inside takes the colour of its most open frame
#: (``core.face.mouth``), a frame left out of the scoring with the 3 either side of it.
VIDEO_METHODS = ("plain, face video", "+ video ref")


def speed(refiner: Any, frames: int) -> None:
    from core.cli import DEMO_FACE
    from core.render.video import stage_from
    from core.render.warp import WarpRenderer

    stage = stage_from(DEMO_FACE)
    w = np.zeros(52, np.float32)
    for size, net in [(s, n) for s in (256, 512) for n in dict.fromkeys([None, refiner])]:
        r = WarpRenderer(stage, size, net)
        times = []
        for k in range(frames):
            t0 = time.perf_counter()
            r.frame(w, np.array([0.05 * np.sin(k), 0.1 * np.cos(k), 0, 0, 0, 0], np.float32))
            times.append(time.perf_counter() - t0)
        what = "warp + refiner" if net is not None else "plain warp"
        print(f"speed at {size} px, {what}: {1 / statistics.median(times):.1f} frames/s (median of {len(times)})")
    end_to_end(frames)


def end_to_end(frames: int) -> None:
    """``parley animate`` then ``parley render`` as commands: frames of video per wall second of ``parley render``."""
    import subprocess
    import sys
    import tempfile

    from core.cli import DEMO_AUDIO, DEMO_FACE

    with tempfile.TemporaryDirectory() as tmp:
        res = Path(tmp) / "line.npz"
        subprocess.run([sys.executable, "-m", "core.cli", "animate", str(DEMO_AUDIO), "--out", str(res)], check=True,
                       capture_output=True, cwd=REPO)
        n = int(np.load(res)["arkit"].shape[0])
        walls = []
        for _ in range(1 if frames < 10 else 3):  # a smoke run (a couple of speed frames): once
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "core.cli", "render", str(res), "--face", str(DEMO_FACE), "--out",
                            str(Path(tmp) / "v.mp4"), "--size", "512"], check=True, capture_output=True,
                           cwd=REPO)
            walls.append(time.perf_counter() - t0)
        w = statistics.median(walls)
        print(f"parley render, 512 px, {n} frames as one command (start-up included): {w:.1f} s → "
              f"{n / w:.1f} frames/s (median of {len(walls)})")

def _box(lm: np.ndarray, pad: int, shape: tuple[int, ...]) -> tuple[slice, slice]:
    lo = np.maximum(lm[:, :2].min(0).astype(int) - pad, 0)
    hi = np.minimum(lm[:, :2].max(0).astype(int) + pad, [shape[1], shape[0]])
    return slice(lo[1], hi[1]), slice(lo[0], hi[0])


def grid_rows(grid: Path, n_clips: int, methods: dict[str, Any], out: Path | None = None,
              tune: bool = False) -> list[tuple[Any, ...]]:
    from core.face.geometry import mouth_aperture
    from core.face.ict import fit_head, load_head
    from core.face.media import iter_video_frames
    from core.face.neutral import clip_rest
    from core.face.tracker import track_image
    from core.metrics.image import psnr, ssim
    from core.metrics.landmarks import lmd, msi_lips
    from core.metrics.mouth import inside, most_open, summarise
    from core.render.video import stage_of
    from core.render.warp import MOUTH, WarpRenderer
    from core.train.renderer import bench_clips

    clips = [c for c in json.loads((grid / "manifest.json").read_text())["clips"] if (REPO / c["source"]).is_file()]
    chosen = rest_clips(clips, n_clips) if tune else bench_clips(clips, n_clips)
    head_asset = load_head()
    rows = []
    sheets: dict[str, list[np.ndarray]] = {}
    for (method, refiner), c in [(mr, c) for c in chosen for mr in methods.items()]:
        frames = list(iter_video_frames(REPO / c["source"]))
        with np.load(grid / c["file"]) as z:
            lm, pose = z["landmarks"], z["pose"]
        n = min(len(frames), len(lm))
        rest = clip_rest(lm)
        identity = fit_head(rest, head_asset, expression=False).identity
        u, shown, left_out = face_video_frames(lm[:n], pose[:n])
        views = [(frames[t], track_image(frames[t]).landmarks) for t in shown] if method in VIDEO_METHODS else []
        stage = stage_of(frames[0], rest, open_views=views)
        refiner, refined_inside = refiner if isinstance(refiner, tuple) else (refiner, False)
        if u is not None and refiner is not None and refiner.cfg.reference == "open":
            stage.reference = (frames[u], fit_head(lm[u], head_asset, identity=identity).arkit,
                               (pose[u] - pose[0]).astype(np.float32))
        renderer = WarpRenderer(stage, max(frames[0].shape[:2]), refiner, refined_inside)
        face_s, mouth_s, got, want = [], [], [], []
        real_in: list[Any] = []
        got_in: list[Any] = []
        crops: list[tuple[np.ndarray, np.ndarray]] = []
        for t in range(n):
            if t in left_out:
                continue
            arkit = fit_head(lm[t], head_asset, identity=identity).arkit
            img = renderer.frame(arkit, (pose[t] - pose[0]).astype(np.float32))
            real = frames[t][: img.shape[0], : img.shape[1]]
            try:
                real_lm, got_lm = track_image(real).landmarks, track_image(img).landmarks
            except Exception:  # noqa: BLE001 — a frame the tracker misses is counted, not fatal
                continue
            box = _box(real_lm, 8, img.shape)
            face_s.append((ssim(img[box], real[box]), psnr(img[box], real[box])))
            half = renderer.window_side / 2
            cx, cy = real_lm[MOUTH, :2].mean(0)
            mbox = (slice(max(0, int(cy - half)), int(cy + half)), slice(max(0, int(cx - half)), int(cx + half)))
            mouth_s.append((ssim(img[mbox], real[mbox]), psnr(img[mbox], real[mbox])))
            got.append(got_lm)
            want.append(real_lm)
            real_in.append(inside(real, real_lm))
            got_in.append(inside(img, got_lm))
            crops.append((_mouth_crop(real, real_lm), _mouth_crop(img, got_lm)))
        g, wnt = np.asarray(got), np.asarray(want)
        top = most_open(mouth_aperture(wnt))  # the real talker's 20 % most open frames
        sheet = sheets.setdefault(c["key"], [_row([crops[i][0] for i in top])])  # the real mouths on top
        sheet.append(_row([crops[i][1] for i in top]))
        mine, theirs = summarise([got_in[i] for i in top]), summarise([real_in[i] for i in top])
        group = "rest" if tune else "s4" if c["speaker"] == "s4" else "small held-out"
        f, m = np.mean(face_s, 0), np.mean(mouth_s, 0)
        rows.append((method, group, c["key"], n, len(got), f[0], f[1], m[0], m[1], lmd(g, wnt), msi_lips(g),
                     msi_lips(wnt), *_colour(mine, theirs)))
    if out is not None:
        from PIL import Image

        out.mkdir(parents=True, exist_ok=True)
        for key, sheet in sheets.items():
            Image.fromarray(np.concatenate(sheet, 0)).save(out / f"grid_{key}_mouths.png")
    return rows


def face_video_frames(landmarks: np.ndarray, pose: np.ndarray) -> tuple[int | None, list[int], set[int]]:
    """A GRID clip as a face video: its most open mouth (the video refiner's reference, or None), its 20 % most open
    frames (the inside's colour: the match's views) and every frame left out of the scoring for them (the first
    with 3 frames either side)."""
    from core.face.geometry import open_frame, open_frames

    u = open_frame(landmarks, pose, 0)
    near_u = [] if u is None else list(range(u - 3, u + 4))
    shown = open_frames(landmarks, pose, 0, avoid=near_u)
    return u, shown, set(near_u) | set(shown)


def rest_clips(clips: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Clips of the rest-model speakers (``core.data.splits.REST_SPEAKERS``) to tune the renderer's settings on,
    never the held-out ones the table reports: each speaker's first clip, then their second, up to ``n``."""
    from core.data.splits import REST_SPEAKERS

    by = [[c for c in clips if c["speaker"] == s] for s in REST_SPEAKERS]
    order: list[dict[str, Any]] = []
    for k in range(max(map(len, by), default=0)):
        order += [cs[k] for cs in by if k < len(cs)]
    return order[:n]


def _mouth_crop(img: np.ndarray, landmarks: np.ndarray, side: int = 96) -> np.ndarray:
    """A ``side``² square on the mouth of ``img`` (RGB), 1.6 mouth widths across, for the eye to compare."""
    import cv2

    from core.render.warp import MOUTH

    lm = np.asarray(landmarks)[:, :2]
    cx, cy = lm[MOUTH].mean(0)
    half = 0.8 * float(np.linalg.norm(lm[MOUTH[0]] - lm[MOUTH[1]]))
    s = side / max(2 * half, 1.0)
    to_crop = np.array([[s, 0.0, side / 2 - s * cx], [0.0, s, side / 2 - s * cy]])
    return cv2.warpAffine(np.ascontiguousarray(img), to_crop, (side, side), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REPLICATE)


def _row(crops: list[np.ndarray | None], n: int = 6, side: int = 96) -> np.ndarray:
    """The first ``n`` crops side by side (grey where a frame had no face)."""
    got = [c if c is not None else np.full((side, side, 3), 128, np.uint8) for c in crops[:n]]
    got += [np.full((side, side, 3), 128, np.uint8)] * (n - len(got))
    return np.concatenate(got, 1)


def _colour(mine: Any, theirs: Any) -> tuple[float, ...]:
    """dE between the rendered and the real inside, rendered teeth share %, real teeth share %, then the rendered
    and the real inside's mean L*, a*, b*; NaN where shut."""
    from core.metrics.mouth import delta_e

    nan = float("nan")
    lab_m = (nan,) * 3 if mine is None else tuple(float(x) for x in mine.lab)
    lab_r = (nan,) * 3 if theirs is None else tuple(float(x) for x in theirs.lab)
    de = nan if mine is None or theirs is None else delta_e(mine.lab, theirs.lab)
    return (de, nan if mine is None else 100 * mine.teeth_share, nan if theirs is None else 100 * theirs.teeth_share,
            *lab_m, *lab_r)


def _lab(v: Any) -> str:
    """Rendered and real L*a*b*, as the tables print them."""
    return f"{v[0]:5.1f} {v[1]:5.1f} {v[2]:5.1f} | {v[3]:5.1f} {v[4]:5.1f} {v[5]:5.1f}"


def print_grid(rows: list[tuple[Any, ...]], methods: list[str], tune: bool = False) -> None:
    which = "rest-model speakers'" if tune else "held-out"
    print(f"\nGRID {which} clips, each from its first frame with its own tracked motion (means over frames)")
    head = (f"{'method':15} {'group':15} {'clip':11} {'frames':>6} {'tracked':>7} {'SSIM':>6} {'PSNR':>6} "
            f"{'mouth SSIM':>10} {'mouth PSNR':>10} {'mouth LMD px':>12} {'lip MSI':>7} {'real MSI':>8} "
            f"{'inside dE':>9} {'teeth %':>7} {'real %':>6}  {'rendered L* a* b* | real L* a* b*'}")
    print(head)
    for meth, grp, k, n, tr, *v in rows:
        print(f"{meth:15} {grp:15} {k[-11:]:11} {n:6d} {tr:7d} {v[0]:6.3f} {v[1]:6.2f} {v[2]:10.3f} {v[3]:10.2f} "
              f"{v[4]:12.2f} {v[5]:7.3f} {v[6]:8.3f} {v[7]:9.1f} {v[8]:7.1f} {v[9]:6.1f}  {_lab(v[10:])}")
    print("\nmeans per group")
    print(head)
    for grp in ("rest",) if tune else ("s4", "small held-out", "all"):
        for meth in methods:
            arr = np.asarray([r[5:] for r in rows if r[0] == meth and grp in ("all", r[1])], np.float64)
            if len(arr):
                a = np.nanmean(arr, 0)
                print(f"{meth:15} {grp:15} {'mean':11} {'':6} {'':7} {a[0]:6.3f} {a[1]:6.2f} {a[2]:10.3f} "
                      f"{a[3]:10.2f} {a[4]:12.2f} {a[5]:7.3f} {a[6]:8.3f} {a[7]:9.1f} {a[8]:7.1f} {a[9]:6.1f}  "
                      f"{_lab(a[10:])}")


def dev_av(folder: Path, seconds: float, methods: dict[str, Any], out: Path) -> None:
    """Each interview's first frame says its first ``seconds`` of audio; the face tracked in what comes out."""
    from PIL import Image

    from core.animate import animate
    from core.audio.decode import Audio, load_audio
    from core.face.geometry import mouth_aperture, open_frames
    from core.face.hair_mask import person_mask
    from core.face.media import iter_video_frames
    from core.face.tracker import MediaPipeTracker
    from core.metrics.mouth import inside, most_open, summarise
    from core.metrics.sync import pearson
    from core.render.video import stage_of
    from core.render.warp import WarpRenderer

    out.mkdir(parents=True, exist_ok=True)
    print(f"\ndev-av photos driven by their own first {seconds:g} s of audio (first frame as the photo); inside dE:"
          " the rendered open mouth's colour against the real talker's, each over its own 20 % most open frames;"
          " bg moved: the mean change (0–255) from the photo over what MediaPipe's selfie segmentation calls"
          " background in both the photo and the frame, and the share of it changed by more than 8")
    print(f"{'method':15} {'clip':26} {'frames':>6} {'face found':>10} {'aperture r':>10} {'s/frame':>8} "
          f"{'inside dE':>9} {'teeth %':>7} {'real %':>6} {'bg moved':>8} {'> 8':>6}  "
          f"{'rendered L* a* b* | real L* a* b*'}")
    for video in sorted(folder.glob("*.mp4")):
        photo = next(iter(iter_video_frames(video, max_frames=1)))
        a = load_audio(video, allow_silence=True)
        n = int(round(seconds * a.sample_rate))
        still = out / f"{video.stem}_photo.png"  # what a user gives: a photo file
        Image.fromarray(photo).save(still)
        res = animate(Audio(a.samples[:n], a.sample_rate, a.sample_rate, 1, video.name), still, fps=25.0)
        want = mouth_aperture(res.landmarks)
        real_ap, real_in, real_lm, real_crops = [], [], [], []
        with MediaPipeTracker(video=True) as tracker:
            for frame in iter_video_frames(video, max_frames=res.frames):
                obs = tracker.track(frame)
                real_ap.append(np.nan if obs is None else float(mouth_aperture(obs.landmarks[None])[0]))
                real_in.append(None if obs is None else inside(frame, obs.landmarks))
                real_lm.append(None if obs is None else obs.landmarks)
                real_crops.append(None if obs is None else _mouth_crop(frame, obs.landmarks))
        # the clip as a face video: its 20 % most open tracked frames (16 at most) give the inside's colour and are
        # left out of every method's scoring
        lms = np.stack([np.zeros((468, 3), np.float32) if x is None else x for x in real_lm])
        shown = open_frames(lms, np.zeros((len(lms), 6)), 0, avoid=[t for t, x in enumerate(real_lm) if x is None])
        scored = np.array(real_ap)
        scored[shown] = np.nan
        theirs = summarise([real_in[i] for i in most_open(scored)])
        views = [(f, lms[t]) for t, f in enumerate(iter_video_frames(video, max_frames=max(shown) + 1))
                 if t in shown]
        t0 = time.perf_counter()
        stages = {False: stage_of(photo)}
        t1 = time.perf_counter()
        stages[True] = stage_of(photo, open_views=views)
        t2 = time.perf_counter()
        match = stages[True].inside_match
        print(f"{video.stem}: the head from the photo {t1 - t0:.2f} s; with the face video's {len(views)} open frames "
              f"and the mouth's match {t2 - t1:.2f} s" + ("" if match is None else
              f" (at those frames dE {match.before_de:.1f} → {match.after_de:.1f}, teeth "
              f"{100 * match.before_teeth:.1f} → {100 * match.after_teeth:.1f} % where the video shows "
              f"{100 * match.seen_teeth:.1f} %)"))
        # the mouths a person compares: the real talker's most open scored frames, then each method's (one row each)
        sheet = [_row([real_crops[i] for i in most_open(scored)])]
        for method, net in methods.items():
            stage = stages[method in VIDEO_METHODS]
            r = WarpRenderer(stage, 512, *(net if isinstance(net, tuple) else (net, False)))
            found: list[bool] = []
            aperture: list[float] = []
            insides: list[Any] = []
            strip: list[np.ndarray] = []
            crops: list[np.ndarray | None] = []
            background = person_mask(r.photo) < 0.05
            moved: list[np.ndarray] = []
            t0 = time.perf_counter()
            with MediaPipeTracker(video=True) as tracker:
                for t in range(res.frames):
                    img = r.frame(res.arkit[t], res.pose[t])
                    obs = tracker.track(img)
                    found.append(obs is not None)
                    aperture.append(np.nan if obs is None else float(mouth_aperture(obs.landmarks[None])[0]))
                    insides.append(None if obs is None else inside(img, obs.landmarks))
                    crops.append(None if obs is None else _mouth_crop(img, obs.landmarks))
                    t1 = time.perf_counter()  # not counted in s/frame
                    kept = background & (person_mask(img) < 0.05)
                    moved.append(np.abs(img.astype(np.int16) - r.photo.astype(np.int16)).max(-1)[kept])
                    t0 += time.perf_counter() - t1
                    if t % max(1, res.frames // 6) == 0 and len(strip) < 6:
                        strip.append(img)
            took = (time.perf_counter() - t0) / res.frames
            ap = np.asarray(aperture)
            ok = np.isfinite(ap)
            r_ap = pearson(ap[ok], want[: len(ap)][ok]) if ok.sum() > 2 else float("nan")
            de, teeth, teeth_real, *lab = _colour(summarise([insides[i] for i in most_open(ap)]), theirs)
            bg = np.concatenate(moved)
            print(f"{method:15} {video.stem:26} {res.frames:6d} {100 * np.mean(found):9.1f}% {r_ap:10.2f} "
                  f"{took:8.3f} {de:9.1f} {teeth:7.1f} {teeth_real:6.1f} {bg.mean():8.2f} {100 * np.mean(bg > 8):5.1f}%"
                  f"  {_lab(lab)}")
            if strip:
                Image.fromarray(np.concatenate(strip, 1)).save(out / f"{video.stem}_{method.replace(' ', '_')}.png")
            sheet.append(_row([crops[i] for i in most_open(ap)]))
        Image.fromarray(np.concatenate(sheet, 0)).save(out / f"{video.stem}_mouths.png")
    print("targets: face found ≥ 95 % of frames, aperture r ≥ 0.7 (issue 14); inside dE ≤ 7 and teeth ≥ half the "
          "real share (issue 22)")


def main() -> int:
    from core.render.video import REFINER, REFINER_VIDEO, load_refiner

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=str(REPO / "data" / "grid"))
    ap.add_argument("--dev-av", default=str(REPO.parent / "shared" / "data" / "dev-av"))
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--dev-seconds", type=float, default=10.0)
    ap.add_argument("--speed-frames", type=int, default=20)
    ap.add_argument("--refiner", default=str(REFINER), help="the refiner to score (default: the shipped one)")
    ap.add_argument("--out", default=str(REPO / "out" / "bench_render"))
    ap.add_argument("--video-refiner", default=str(REFINER_VIDEO),
                    help="the refiner for face videos, scored with the clip's most open mouth as its reference")
    ap.add_argument("--plain-warp", action="store_true", help="score the plain warp alone")
    ap.add_argument("--skip", nargs="*", default=[], choices=["speed", "grid", "dev-av"])
    ap.add_argument("--tune", action="store_true",
                    help="GRID: the rest-model speakers' clips (to choose settings on), not the held-out ones")
    args = ap.parse_args()

    net = None if args.plain_warp else load_refiner(args.refiner)
    video_net = None if args.plain_warp or args.video_refiner in ("", "none") else load_refiner(args.video_refiner)
    methods = {"plain warp": None, "plain, face video": None,
               **({"warp + refiner": net, "refined inside": (net, True)} if net is not None else {}),
               **({"+ video ref": video_net} if video_net is not None else {})}
    if net is None:
        print("no refiner: the plain warp alone")
    if "speed" not in args.skip:
        speed(net, args.speed_frames)  # the video refiner is the same network: the same speed
    grid = Path(args.grid)
    if "grid" in args.skip:
        pass
    elif (grid / "manifest.json").is_file():
        print_grid(grid_rows(grid, args.clips, methods, Path(args.out), args.tune), list(methods), args.tune)
    else:
        print(f"skipped GRID: {grid} is not prepared")
    dev = Path(args.dev_av)
    if "dev-av" in args.skip:
        pass
    elif dev.is_dir():
        dev_av(dev, args.dev_seconds, {k: v for k, v in methods.items() if k != "+ video ref"}, Path(args.out))
    else:
        print(f"skipped dev-av: {dev} is absent")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
