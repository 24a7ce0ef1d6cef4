"""The ``parley`` command: everything a person or a script does outside Blender."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from core.errors import ParleyError

REPO = Path(__file__).resolve().parents[1]
DEMO_FACE = Path(__file__).resolve().parent / "assets" / "demo_face.jpg"
DEMO_AUDIO = Path(__file__).resolve().parent / "assets" / "demo_voice.flac"
DEFAULT_PCA = Path(__file__).resolve().parent / "assets" / "landmark_pca.safetensors"


def _quiet_native_logs() -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def check_output(path: str, allowed: tuple[str, ...], flag: str = "--out") -> Path:
    """Refuse an output whose type Parley cannot write before any work starts (and a folder that cannot be made).

    Raises:
        ParleyError: the suffix is not one of ``allowed``, or the path is an existing folder.
    """
    p = Path(path)
    if p.suffix.lower() not in allowed:
        raise ParleyError(f"{flag} {path}: must end in {', '.join(allowed[:-1])} or {allowed[-1]}"
                          if len(allowed) > 1 else f"{flag} {path}: must end in {allowed[0]}")
    if p.is_dir():
        raise ParleyError(f"{flag} {path}: is a folder; give a file name")
    check_writable(p.parent, flag, path)
    return p


def check_writable(folder: Path, flag: str, given: str | Path) -> None:
    """Refuse, before any work, an output whose folder cannot be made or written (read-only, /proc, a file).

    Raises:
        ParleyError: the folder cannot be created, or a file cannot be written in it.
    """
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".parley-check-"):
            pass
    except OSError as exc:
        raise ParleyError(f"{flag} {given}: cannot write there ({exc.strerror or exc})") from None


def cmd_reconstruct(args: argparse.Namespace) -> int:
    check_output(args.out, (".glb", ".obj") if args.mesh == "head" else (".glb", ".gltf", ".obj"))
    if args.views:
        check_output(args.views, (".png",), "--views")
    from core.face.reconstruct import reconstruct

    rec = reconstruct(args.source)
    where = f", from frame {rec.frame_index} (most frontal)" if rec.fps else ""
    if args.mesh == "mask":
        out = rec.face.export(args.out)
        extra = [rec.face.export(Path(args.out).with_suffix(".obj"))] if args.obj else []
        h, w = rec.face.texture.shape[:2]
        detail = f"{len(rec.face.vertices)} vertices, {len(rec.face.faces)} triangles, texture {w}x{h}{where}"
    else:
        from core.face.gltf import write_glb, write_obj

        hd = rec.full_head()
        out = write_glb(hd, args.out) if Path(args.out).suffix.lower() == ".glb" else write_obj(hd, args.out)
        extra = [write_obj(hd, Path(args.out).with_suffix(".obj"))] if args.obj and out.suffix != ".obj" else []
        h, w = hd.materials[0].texture.shape[:2] if hd.materials[0].texture is not None else (0, 0)
        detail = (f"{len(hd.vertices)} vertices, {len(hd.triangles)} triangles, {len(hd.shape_key_names)} ARKit "
                  f"shape keys, skin texture {w}x{h}{where}")
        for note in hd.notes:
            print(f"  note: {note}")
    print(f"{args.source} → {out}" + "".join(f", {p}" for p in extra))
    print(f"  {detail}")
    if args.views:
        from PIL import Image

        from core.face.shade import turnaround

        Path(args.views).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(turnaround(rec.full_head(), 512)).save(args.views)
        print(f"  front, three-quarter and profile → {args.views}")
    return 0


def cmd_data_prepare(args: argparse.Namespace) -> int:
    from core.data.prepare import prepare

    rep = prepare(
        [Path(p) for p in args.videos], Path(args.out), workers=args.workers, refit_canonical=args.refit_canonical
    )
    print(f"prepared {rep.clips} clips in {rep.out_dir} (manifest.json); skipped {len(rep.skipped)}")
    for path, why in rep.skipped:
        print(f"  skipped {path}: {why}")
    return 0


def cmd_data_pca(args: argparse.Namespace) -> int:
    from core.models.checkpoint import recording
    from core.models.fit import fit_landmark_pca
    from core.train.provenance import provenance
    from core.train.run import promote

    out = Path(args.out)
    with recording(provenance(Path(args.data))):
        pca = fit_landmark_pca(Path(args.data), out, n_components=args.components)
    evr = pca.explained_variance_ratio
    print(f"PCA with {pca.n_components} components → {out}")
    print(f"  explained variance (train): {evr.sum():.4f}  (first 5: {', '.join(f'{v:.3f}' for v in evr[:5])})")
    for k, v in pca.metrics.items():
        print(f"  {k}: {v:.4f}")
    if args.promote:
        print("promoted → " + ", ".join(map(str, promote([out, out.with_suffix(".json")]))))
    return 0


def cmd_data_phones(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.synthetic:
        from core.data.tts import synthetic_corpus

        n, missing = synthetic_corpus(out, seed=args.seed)
        print(f"spoke {n} sentences into {out} (manifest.json)" + (f"; not installed: {', '.join(missing)}"
                                                                     if missing else ""))
        return 0
    if not args.audio:
        raise ParleyError("give audio files or folders to label (or --synthetic)")
    from core.data.phone_corpus import label_audio

    n, skipped = label_audio([Path(p) for p in args.audio], out, workers=args.workers)
    print(f"labelled {n} audio files in {out} (manifest.json); skipped {len(skipped)}")
    for path, why in skipped:
        print(f"  skipped {path}: {why}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from core.metrics.report import evaluate, format_table, load_motion, write_plots

    if args.truth_tracker == "face-alignment":
        return _eval_fan(args)
    pred, truth = load_motion(args.pred), load_motion(args.truth)
    scores = evaluate(pred, truth)
    print(format_table(scores))
    plots = write_plots(pred, truth, scores, Path(args.plots))
    print("plots: " + ", ".join(str(p) for p in plots))
    return 0


def _eval_fan(args: argparse.Namespace) -> int:
    """Aperture sync against a truth video tracked with the optional 68-point tracker."""
    from core.face.fan import aperture_68, check_available, track_68
    from core.face.geometry import mouth_aperture
    from core.face.media import iter_video_frames
    from core.metrics.report import format_table, load_motion
    from core.metrics.sync import sync_scores

    check_available()
    pred = load_motion(args.pred)
    truth = aperture_68(track_68(list(iter_video_frames(args.truth))))
    s = sync_scores(mouth_aperture(pred.landmarks), truth)
    scores = {"aperture_r_lag0": s.r_lag0, "aperture_best_lag": float(s.best_lag),
              "aperture_r_best": s.r_best, "aperture_amplitude_ratio": s.amplitude_ratio}
    print(format_table(scores))
    return 0


def spontaneous_args(args: argparse.Namespace) -> Any:
    """The take's options (fps, articulation, head/blink/gaze/brows), checked before any work; the Spontaneous."""
    from core.take import Spontaneous, check_take

    sp = Spontaneous(args.head_motion, Spontaneous.parse_blink_rate(args.blink_rate), args.gaze, args.brows == "on")
    return check_take(args.fps, args.articulation, sp)


def script_args(args: argparse.Namespace) -> str | None:
    """The line's script from --text or --text-file, checked (with --language) before any work."""
    from core.speech.script import check_script, read_script

    if args.text is not None and args.text_file is not None:
        raise ParleyError("--text and --text-file: give one of them")
    text = read_script(args.text_file) if args.text_file is not None else args.text
    return check_script(text, args.language)


def cmd_animate(args: argparse.Namespace) -> int:
    check_output(args.out, (".npz", ".json"))
    if args.preview:
        check_output(args.preview, (".mp4",), "--preview")
    motion = spontaneous_args(args)
    from core.animate import animate
    from core.loading import load_models
    from core.reference import reference_of
    from core.threads import one_thread

    text = script_args(args)
    one_thread()
    models = load_models(args.models) if args.models else None
    face: Any = args.face
    rec = None
    if args.preview:  # the preview shows the person's head: reconstruct once, for the animation and the preview
        from core.face.reconstruct import reconstruct

        rec = reconstruct(args.face or DEMO_FACE)
        face = reference_of(rec, Path(args.face or DEMO_FACE))
    res = animate(args.audio, face, fps=args.fps, text=text, models=models, seed=args.seed,
                  articulation=args.articulation, motion=motion, language=args.language)
    out = res.save(args.out)
    dur = res.meta["audio"]["duration_s"]
    print(f"{args.audio} ({dur:.2f} s) → {out}: {res.frames} frames at {res.fps:g} fps "
          f"(face: {res.meta['face']}; head style: {res.meta['head_style']})")
    for note in res.meta["notes"]:
        print(f"  note: {note}")
    if args.preview and rec is not None:
        from core.preview import write_head_preview

        clip = write_head_preview(rec.full_head(), res.arkit, res.pose, res.fps, args.audio, args.preview)
        print(f"  preview → {clip}")
    return 0


def cmd_live(args: argparse.Namespace) -> int:
    """``parley live``: a microphone or a file → frames as JSON lines and/or OSC, as they are ready."""
    import torch

    from core.live.engine import LiveEngine
    from core.live.run import LIVE_MODEL, Outputs, load_live, stream
    from core.live.sources import BLOCK, file_blocks, mic_blocks
    from core.reference import face_reference
    from core.take import Spontaneous, check_take

    if args.jsonl is None and args.osc is None:
        raise ParleyError("parley live: say where the frames go: --jsonl PATH|- and/or --osc HOST:PORT")
    if args.input != "mic" and not Path(args.input).is_file():
        raise ParleyError(f"--input {args.input}: no such file (give 'mic' or an audio file)")
    if args.input == "mic" and args.realtime:
        raise ParleyError("--realtime paces a file like a microphone; a microphone is real time already")
    sp = check_take(args.fps, 1.0, Spontaneous(args.head_motion, Spontaneous.parse_blink_rate(args.blink_rate),
                                                args.gaze, args.brows == "on"))
    from core.live.osc import OscSender

    osc = OscSender(args.osc) if args.osc else None
    torch.set_num_threads(1)  # one frame's convolutions are small: a second thread costs more than it gives
    net = load_live(args.model or LIVE_MODEL)
    engine = LiveEngine(net, face_reference(args.face), fps=args.fps, spontaneous=sp, seed=args.seed)
    blocks = mic_blocks(args.device) if args.input == "mic" else file_blocks(args.input, args.realtime)
    sink = None
    if args.jsonl not in (None, "-"):
        check_output(args.jsonl, (".jsonl", ".json", ".txt"), "--jsonl")
        sink = open(args.jsonl, "w", encoding="utf-8")  # noqa: SIM115 (closed below, after the stream)
    try:
        out = Outputs(sys.stdout if args.jsonl == "-" else sink, osc)
        n = stream(engine, blocks, out, BLOCK)
    finally:
        if sink is not None:
            sink.close()
        if osc is not None:
            osc.close()
    if args.jsonl != "-":
        print(f"parley live: {n} frames at {args.fps:g} fps", file=sys.stderr)
    return 0


def _take_arguments(a: argparse.ArgumentParser) -> None:
    """The options of a take, shared by animate and batch."""
    a.add_argument("--seed", type=int, default=0, help="seed of the take: blinks, gaze, head sway (default 0)")
    a.add_argument("--head-motion", type=float, default=1.0,
                   help="head motion: 0 still, 1 a talker in conversation (default), 2 twice as much")
    a.add_argument("--blink-rate", default="natural",
                   help="'natural' (default: conversational, more at pauses and phrase ends) or blinks per minute")
    a.add_argument("--gaze", choices=("free", "camera", "off"), default="free",
                   help="free: fixations and small saccades (default); camera: eyes kept on the camera; off")
    a.add_argument("--brows", choices=("on", "off"), default="on", help="brow raises on pitch accents (default on)")
    a.add_argument("--articulation", type=float, default=1.0,
                   help="how far the mouth moves: 0 still, 1 a real talker's range (default), 2 exaggerated")
    a.add_argument("--language", default="en", choices=("en", "fr", "de", "es", "it", "pt"),
                   help="the script's language (default en; others are phonemised by espeak-ng)")
    a.add_argument("--models", help="folder with the checkpoints (default: the shipped ones)")


def cmd_batch(args: argparse.Namespace) -> int:
    if args.workers < 0:
        raise ParleyError(f"--workers {args.workers}: 0 (one per core) or more")
    if Path(args.out).is_file():
        raise ParleyError(f"--out {args.out}: is a file; give a folder for the results")
    check_writable(Path(args.out), "--out", args.out)
    motion = spontaneous_args(args)
    from tqdm import tqdm

    from core.batch import Settings, run_batch

    if args.face and not Path(args.face).is_file():
        raise ParleyError(f"--face {args.face}: no such file")
    # the face is reconstructed once, by run_batch, after the worker processes are forked
    settings = Settings(None, args.fps, args.seed, args.articulation, motion, args.models, args.language,
                        not args.ignore_scripts, args.face)
    bar = tqdm(desc="animating", unit="line", disable=None)  # a bar on a terminal; none in a log file

    def step(o, total: int) -> None:  # type: ignore[no-untyped-def]
        bar.total = total
        bar.update(1)
        if o.error:
            bar.write(f"failed: {o.item.audio}: {o.error}")

    try:
        summary = run_batch(args.inputs, args.out, settings, args.format, args.workers, args.ray, step)
    finally:
        bar.close()
    print(summary.text())
    return 1 if summary.failed else 0


def cmd_render(args: argparse.Namespace) -> int:
    check_output(args.out, (".mp4",))
    from core.render.warp import MAX_SIZE

    if not 64 <= args.size <= MAX_SIZE:
        raise ParleyError(f"--size {args.size}: must be between 64 and {MAX_SIZE} pixels")
    from tqdm import tqdm

    from core.render.video import DEFAULT, render

    with tqdm(total=100, desc="rendering", unit="%", bar_format="{l_bar}{bar}| {n:.0f}%", disable=None) as bar:
        out = render(args.result, args.face, args.out, args.audio, args.size,
                     progress=lambda f: bar.update(100 * f - bar.n),
                     refiner=None if args.plain_warp else (args.refiner or DEFAULT))
    print(f"{args.result} with {args.face} → {out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from PIL import Image

    from core.animate import animate
    from core.face.gltf import write_glb, write_obj
    from core.face.reconstruct import reconstruct
    from core.face.shade import turnaround
    from core.preview import write_head_preview
    from core.reference import reference_of

    out = Path(args.out)
    rec = reconstruct(DEMO_FACE)
    head = rec.full_head()
    glb = write_glb(head, out / "demo_head.glb")
    obj = write_obj(head, out / "demo_head.obj")
    views = out / "demo_head_views.png"
    Image.fromarray(turnaround(head, 512)).save(views)
    print(f"demo face {DEMO_FACE.name} → {glb}, {obj}; front, three-quarter and profile → {views}")
    res = animate(DEMO_AUDIO, reference_of(rec, DEMO_FACE), fps=args.fps)
    npz = res.save(out / "demo.npz")
    print(f"demo voice {DEMO_AUDIO.name} ({res.meta['audio']['duration_s']:.2f} s) → {npz}: {res.frames} frames "
          f"at {res.fps:g} fps")
    preview = write_head_preview(head, res.arkit, res.pose, res.fps, DEMO_AUDIO, out / "demo_preview.mp4")
    print(f"preview video (head + voice) → {preview}")
    return 0


def build_parser(extend: Callable[[Any], None] | None = None) -> argparse.ArgumentParser:
    """The ``parley`` parser; ``extend(subparsers)`` adds commands from outer layers (``serve`` from server/)."""
    p = argparse.ArgumentParser(prog="parley", description="Speech-driven face animation for Blender.")
    p.add_argument("-v", "--verbose", action="store_true", help="show progress logs and tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("reconstruct", help="photo or video → the person's textured head with ARKit shape keys")
    r.add_argument("source", help="a photo (JPEG, PNG...) or a video of a face")
    r.add_argument("--out", required=True, help="output: .glb (with the 52 ARKit shape keys) or .obj (at rest)")
    r.add_argument("--obj", action="store_true", help="also write an .obj beside the output")
    r.add_argument("--views", help="also render front, three-quarter and profile views to this .png")
    r.add_argument("--mesh", choices=("head", "mask"), default="head",
                   help="head (default): the full ICT head; mask: the 468-point face mask whose vertices are "
                        "the result's landmarks (.gltf allowed), for retargeting landmarks yourself")
    r.set_defaults(func=cmd_reconstruct)

    rn = sub.add_parser("render", help="a result played by the person in a photo → MP4 (3D-aware warp)")
    rn.add_argument("result", help="a result .npz from parley animate")
    rn.add_argument("--face", required=True, help="the photo (or a face video: its most frontal frame)")
    rn.add_argument("--out", required=True, help="output .mp4")
    rn.add_argument("--audio", help="audio to mux in (default: the result's own, if the file is still there)")
    rn.add_argument("--size", type=int, default=512, help="pixels on the long side (64–2048, default 512)")
    rn.add_argument("--plain-warp", action="store_true", help="the warp alone, without the refiner network")
    rn.add_argument("--refiner", help="a refiner checkpoint, e.g. a personal one from `parley train renderer "
                    "--person VIDEO`, or 'shipped' for the shipped photo refiner (default: the plain warp for a "
                    "photo, whose open mouths measure closer to real ones; the shipped video refiner for a video)")
    rn.set_defaults(func=cmd_render)

    d = sub.add_parser("data", help="prepare datasets and fit the landmark PCA")
    dsub = d.add_subparsers(dest="data_command", required=True)
    dp = dsub.add_parser("prepare", help="videos → tracked, filtered, disentangled clips + manifest")
    dp.add_argument("videos", nargs="+", help="video files or folders of videos (speaker = parent folder)")
    dp.add_argument("--out", required=True, help="output folder (resumable)")
    dp.add_argument("--workers", type=int, default=2)
    dp.add_argument("--refit-canonical", action="store_true", help="refit the shipped canonical face from this data")
    dp.set_defaults(func=cmd_data_prepare)
    dph = dsub.add_parser("phones", help="speech → a phone label per 10 ms (PocketSphinx: GRID's sentences aligned, "
                          "other speech recognised then aligned), or synthetic speech with its phone times")
    dph.add_argument("audio", nargs="*", help="audio (or GRID video) files or folders (speaker = parent folder)")
    dph.add_argument("--out", required=True, help="output folder (resumable)")
    dph.add_argument("--synthetic", action="store_true",
                     help="speak Parley's own sentences with festival, flite and espeak-ng voices instead")
    dph.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    dph.add_argument("--seed", type=int, default=0)
    dph.set_defaults(func=cmd_data_phones)
    dc = dsub.add_parser("pca", help="fit the landmark PCA on a prepared dataset")
    dc.add_argument("data", help="a folder made by `parley data prepare`")
    dc.add_argument("--out", default="runs/landmark_pca.safetensors")
    dc.add_argument("--promote", action="store_true", help="copy the fitted PCA into core/assets (what ships)")
    dc.add_argument("--components", type=int, default=20)
    dc.set_defaults(func=cmd_data_pca)

    e = sub.add_parser("eval", help="compare a result with the truth: table + PNG plots")
    e.add_argument("pred", help="result NPZ (parley animate) or prepared clip NPZ")
    e.add_argument("--truth", required=True, help="a video of the real speaker, or an NPZ")
    e.add_argument("--plots", default="out/eval", help="folder for aperture.png, msi.png, scores.json")
    e.add_argument("--truth-tracker", choices=["mediapipe", "face-alignment"], default="mediapipe",
                   help="tracker for a truth video (face-alignment: optional, weights must be on disk)")
    e.set_defaults(func=cmd_eval)

    from core.train.run import add_parser as add_train

    add_train(sub)

    a = sub.add_parser("animate", help="voice clip (+ face) → expression, head pose, blinks, landmarks")
    a.add_argument("audio", help="WAV, FLAC, OGG, MP3, M4A or a video's soundtrack")
    a.add_argument("--face", help="photo or video of the face (default: the built-in portrait); "
                   "a video also gives the head-motion style")
    a.add_argument("--fps", type=float, default=30.0, help="frame rate of every curve (default 30)")
    a.add_argument("--text", help="the line's script: its words drive the mouth where the audio says them")
    a.add_argument("--text-file", help="the script from a text file (UTF-8)")
    a.add_argument("--out", required=True, help="result file: .npz or .json (the result contract: core/contract.py)")
    a.add_argument("--preview", help="also write a preview MP4 (mesh + audio)")
    _take_arguments(a)
    a.set_defaults(func=cmd_animate)

    b = sub.add_parser("batch", help="many voice lines → one result each, on local processes or a Ray cluster")
    b.add_argument("inputs", nargs="+", help="audio files, folders (searched recursively) or .txt lists of paths")
    b.add_argument("--out", required=True, help="folder for the results (<name>.npz|.json; finished ones are kept)")
    b.add_argument("--face", help="photo or video of the face for every line (default: the built-in portrait)")
    b.add_argument("--fps", type=float, default=30.0, help="frame rate of every curve (default 30)")
    b.add_argument("--format", choices=("npz", "json"), default="npz")
    b.add_argument("--ignore-scripts", action="store_true",
                   help="do not read NAME.txt beside NAME.wav as the line's script (read by default)")
    b.add_argument("--workers", type=int, default=0, help="processes (default: one per CPU core)")
    b.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster: 'auto', 'ray://host:10001', or 'local' "
                   "(an in-process cluster of --workers CPUs)")
    _take_arguments(b)
    b.set_defaults(func=cmd_batch)

    lv = sub.add_parser("live", help="a voice in, the face's frames out as they are ready (JSON lines, OSC)")
    lv.add_argument("--input", required=True, help="'mic' (the default input device, or --device) or an audio file")
    lv.add_argument("--realtime", action="store_true", help="feed a file at its real pace, as a microphone would")
    lv.add_argument("--fps", type=float, default=30.0, help="frame rate (default 30)")
    lv.add_argument("--jsonl", help="write a line per frame to PATH, or '-' for stdout")
    lv.add_argument("--osc", metavar="HOST:PORT", help="send each frame as an OSC bundle (ARKit names as addresses)")
    lv.add_argument("--device", help="input device index or name (see `python -m sounddevice`)")
    lv.add_argument("--face", help="photo or video of the face (default: the built-in portrait)")
    lv.add_argument("--model", help="the causal model (default: the shipped core/assets/live.safetensors)")
    lv.add_argument("--seed", type=int, default=0, help="seed of the take: blinks, gaze and brows (default 0)")
    lv.add_argument("--head-motion", type=float, default=1.0, help="head motion: 0 still … 1 a talker (default) … 2")
    lv.add_argument("--blink-rate", default="natural", help="'natural' (default) or blinks per minute")
    lv.add_argument("--gaze", choices=("free", "camera", "off"), default="free")
    lv.add_argument("--brows", choices=("on", "off"), default="on", help="brow raises on pitch accents (default on)")
    lv.set_defaults(func=cmd_live)

    m = sub.add_parser("demo", help="run the built-in demo (demo face + demo voice)")
    m.add_argument("--out", default="out")
    m.add_argument("--fps", type=float, default=30.0)
    m.set_defaults(func=cmd_demo)
    if extend is not None:
        extend(sub)
    return p


def main(argv: list[str] | None = None, extend: Callable[[Any], None] | None = None) -> int:
    _quiet_native_logs()
    args = build_parser(extend).parse_args(argv)
    if not args.verbose:
        from core.face import tracker

        tracker.QUIET_NATIVE = True
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return int(args.func(args))
    except ParleyError as exc:
        if args.verbose:
            raise
        print(f"parley: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("parley: interrupted", file=sys.stderr)
        return 130


def leave(code: int) -> NoReturn:
    """End the process with ``code``, without the interpreter's last garbage collection over torch's and every
    other module's objects (0.6–0.8 s on this CPU — a third of a short command's wall time): everything is
    written and closed by now, so the objects are frozen out of that collection and the normal exit runs."""
    import gc

    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    leave(main())
