"""Parley from the command line, inside Blender or with the ``bpy`` module.

    blender -b -P addon/cli.py -- --audio A.wav --face F.jpg --out OUT.glb [--fps 30]
    python addon/cli.py -- --audio A.wav --face F.jpg --out OUT.blend          (bpy module installed)
    python addon/cli.py -- --audio clips/ --face F.jpg --out out/ --format fbx  (batch: a folder …)
    python addon/cli.py -- --audio lines.txt --face F.jpg --out out/            (… or a list, one path a line)
    python addon/cli.py -- --audio A.wav --rig RIG.blend --object FaceMesh [--bone head] --out OUT.fbx
                                                                  (your own rig: its ARKit shape keys driven)
    python addon/cli.py -- --result A.npz --head HEAD.glb [--audio A.wav] --out OUT.fbx
                                                                  (a result as it is: no server)

One output per audio file (``.glb``, ``.fbx`` or ``.blend``, by suffix or ``--format``), each made in a
fresh scene through the same code as the add-on's buttons, run synchronously (background Blender has no
timers). The face is reconstructed once. With ``--rig``, each output is the rig's .blend with the ARKit curves on
the named mesh's shape keys (matched by name: ``jawOpen``, ``JawOpen``, ``jawOpen_L``…; keys it lacks are listed)
and the head motion on ``--bone`` of its armature; ``--face`` is then optional (the person the ARKit solve fits).
A line's script (``--text``/``--text-file`` for one file; ``NAME.txt`` beside each ``NAME.wav`` in a folder or a
list) drives the mouth where the voice says its words. A summary ends the run; the exit code is 1 if any file
failed, 2 for bad arguments. A local server is started
when none answers (and stopped at the end).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

#: The audio picked up from folders, and the video taken when named: ``core.batch``'s own (a test keeps them equal;
#: the add-on ships without core). A folder of lines often holds previews and renders: video is never picked up.
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".aif", ".aiff", ".wma"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm"})
FORMATS = ("glb", "fbx", "blend")
LANGUAGES = ("en", "fr", "de", "es", "it", "pt")  # the scripts' languages (the server phonemises them)


def _package() -> ModuleType:
    """The add-on package this script belongs to (imported by file location: no sys.path edits)."""
    if __package__:
        return sys.modules[__package__]
    here = Path(__file__).resolve().parent
    name = "parley_addon"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, here / "__init__.py", submodule_search_locations=[str(here)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def _interrupt_held() -> Iterator[None]:
    """Hold Ctrl-C back while Blender starts (importing bpy, registering the add-on): one that lands inside bpy's
    start-up is swallowed there (it surfaces as a failed numpy import and the run goes on). Held, it is answered
    the moment start-up is over."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows has no signal masks: Blender's own start-up stands
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _start_blender() -> ModuleType:
    """The add-on package, imported (bpy with it) and registered."""
    with _interrupt_held():
        pkg = _package()
        pkg.register()
    return pkg


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="addon/cli.py", description="Speech → animated Parley face (.glb/.fbx/.blend).")
    p.add_argument("--audio", nargs="+", default=[],
                   help="audio file(s), a folder of them, or a .txt list (one path a line); with --result, the "
                   "result's sound (optional)")
    p.add_argument("--result", help="write this result (.npz from parley animate/batch) as it is, on --head: no "
                   "server, nothing re-animated")
    p.add_argument("--head", help="with --result: the head .glb parley reconstruct wrote for it")
    p.add_argument("--face", help="photo or video of the face (required unless --rig is given)")
    p.add_argument("--rig", help="a .blend holding your character: drive its mesh's ARKit shape keys instead")
    p.add_argument("--object", help="with --rig: the mesh whose shape keys have ARKit names")
    p.add_argument("--bone", help="with --rig: the head bone that gets the head motion (else the head stays)")
    p.add_argument("--armature", help="with --bone: the armature object (default: the mesh's parent or deformer)")
    p.add_argument("--out", required=True, help="output file (one audio) or folder (batch)")
    p.add_argument("--format", choices=FORMATS, help="output format for a folder --out (default glb)")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    p.add_argument("--articulation", type=float, default=1.0,
                   help="how far the mouth moves: 0 still, 1 a real talker's range (default), 2 exaggerated")
    p.add_argument("--head-motion", type=float, default=1.0, help="0 still, 1 a talker in conversation, 2 twice")
    p.add_argument("--blink-rate", default="natural", help="'natural' (default) or blinks per minute (0–60)")
    p.add_argument("--gaze", choices=("free", "camera", "off"), default="free", help="eye movement (default free)")
    p.add_argument("--brows", choices=("on", "off"), default="on", help="brow raises on pitch accents")
    p.add_argument("--seed", type=int, default=0, help="another seed, another take (blinks, gaze, sway)")
    p.add_argument("--text", default=None, help="the line's script (one audio only; for a folder or a list, "
                   "NAME.txt beside NAME.wav is read)")
    p.add_argument("--text-file", default=None, help="the line's script from a text file (one audio only)")
    p.add_argument("--language", choices=LANGUAGES, default="en", help="the scripts' language (default en)")
    p.add_argument("--server", default=None, help="server URL (default $PARLEY_URL or http://127.0.0.1:8765)")
    p.add_argument("--no-start", action="store_true", help="do not start a local server when none answers")
    return p.parse_args(argv)


def check_args(args: argparse.Namespace) -> str:
    """What is wrong with the arguments, found before a server starts ('' when nothing is)."""
    if args.result or args.head:
        return check_result_args(args)
    if not args.audio:
        return "--audio is required (or write an existing result with --result and --head)"
    why = _take_options(args)
    if why:
        return why
    if args.rig:
        if Path(args.rig).suffix.lower() != ".blend" or not Path(args.rig).is_file():
            return f"--rig {args.rig}: must be an existing .blend file"
        if not args.object:
            return "--rig needs --object: the name of the mesh whose shape keys Parley drives"
    elif args.object or args.bone:
        return "--object and --bone go with --rig (your own character in a .blend)"
    elif not args.face:
        return "--face is required (or drive your own rig with --rig and --object)"
    if args.face and not Path(args.face).is_file():
        return f"--face {args.face}: no such file"
    for item in args.audio:
        if not Path(item).exists():
            return f"--audio {item}: no such file or folder"
    if args.text is not None and args.text_file is not None:
        return "--text and --text-file: give one of them"
    if args.text_file is not None and not Path(args.text_file).is_file():
        return f"--text-file {args.text_file}: no such file"
    out = Path(args.out)
    if out.suffix and not out.is_dir() and out.suffix.lower().lstrip(".") not in FORMATS:
        return f"--out {args.out}: must end in {', '.join('.' + f for f in FORMATS)}, or be a folder"
    return writable(out if not out.suffix or out.is_dir() else out.parent, args.out)


def _take_options(args: argparse.Namespace) -> str:
    """The take's options against the limits core sets (``limits.LIMITS``, checked equal to ``core.take``'s)."""
    limits = _limits()
    for name in ("fps", "articulation", "head_motion"):
        why = limits.out_of_range(name, float(getattr(args, name)))
        if why:
            return why
    if args.blink_rate != "natural":
        try:
            rate = float(args.blink_rate)
        except ValueError:
            rate = float("nan")
        if limits.out_of_range("blink_rate", rate):
            return f"--blink-rate {args.blink_rate}: must be 'natural' or between 0 and 60 per minute"
    return ""


def _limits() -> ModuleType:
    """``addon/limits.py`` by file location, without importing the add-on package (and bpy) before the checks."""
    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location("parley_addon_limits", here / "limits.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_result_args(args: argparse.Namespace) -> str:
    """``--result R --head H --out F [--audio A]``: what is wrong ('' when nothing is)."""
    if not (args.result and args.head):
        return "--result and --head go together: the result's curves and the head they play on"
    if args.rig or args.face:
        return "--result writes on --head; --face and --rig are for animating audio"
    for flag, value in (("--result", args.result), ("--head", args.head), *(("--audio", a) for a in args.audio)):
        if not Path(value).is_file():
            return f"{flag} {value}: no such file"
    if len(args.audio) > 1:
        return "--result takes one --audio (its sound)"
    if Path(args.head).suffix.lower() != ".glb":
        return f"--head {args.head}: must be the .glb parley reconstruct wrote"
    out = Path(args.out)
    if out.suffix.lower().lstrip(".") not in FORMATS:
        return f"--out {args.out}: must end in {', '.join('.' + f for f in FORMATS)}"
    return writable(out.parent, args.out)


def write_result(args: argparse.Namespace) -> int:
    """One existing result written as it is (no server)."""
    pkg = _start_blender()
    batch = importlib.import_module(f"{pkg.__name__}.batch")
    workflow = importlib.import_module(f"{pkg.__name__}.workflow")
    try:
        audio = Path(args.audio[0]) if args.audio else None
        batch.write_result(Path(args.head), Path(args.result), audio, Path(args.out))
    except Exception as exc:  # a bad result or head: one line, nothing written
        print(f"addon/cli.py: {workflow.message(exc)}", file=sys.stderr)
        return 1
    finally:
        pkg.unregister()
    print(f"Parley: {args.result} → {args.out}")
    return 0


def writable(folder: Path, given: str) -> str:
    """'' when outputs can be written into ``folder`` (made if missing), else the reason: checked before any work."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".parley-check-"):
            pass
    except OSError as exc:
        return f"--out {given}: cannot write there ({exc.strerror or exc})"
    return ""


def audio_list(items: list[str]) -> list[Path]:
    """Audio files from files, folders (searched recursively, sorted) and ``.txt`` lists (one path a line, relative
    to the list; blank lines and ``#`` comments ignored), each once — ``core.batch.collect``'s rules, which a test
    checks this against.

    Raises:
        ValueError: an input that does not exist.
    """
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
        elif p.suffix.lower() == ".txt" and p.is_file():
            for line in p.read_text().splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    f = Path(line)
                    out.append(f if f.is_absolute() else p.parent / f)
        elif p.is_file() or p.suffix.lower() in AUDIO_SUFFIXES | VIDEO_SUFFIXES:
            out.append(p)  # a listed file that is missing fails as its own item, with its message
        else:
            raise ValueError(f"{item}: no such file or folder")
    return list(dict.fromkeys(out))


def read_script(path: Path) -> str:
    """A dialogue file's text (UTF-8 with or without a byte-order mark, else Latin-1)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return raw.decode("latin-1").strip()


def scripts(audio: list[Path], text: str | None, text_file: str | None) -> list[str | None]:
    """Each line's script: ``--text``/``--text-file`` for a single audio file, else NAME.txt beside NAME.wav."""
    if text is not None or text_file is not None:
        if len(audio) != 1:
            raise SystemExit(f"addon/cli.py: --text and --text-file go with one audio file ({len(audio)} given); for "
                             "many, put NAME.txt beside each NAME.wav")
        return [text if text is not None else read_script(Path(str(text_file)))]
    out: list[str | None] = []
    for a in audio:
        beside = [f for f in (a.with_suffix(".txt"), a.with_suffix(".TXT")) if f.is_file()]
        out.append(read_script(beside[0]) if beside else None)
    return out


def outputs(audio: list[Path], out: Path, fmt: str | None) -> list[Path]:
    """One output path per audio file: ``out`` itself for a single file with a suffix, else ``out/<stem>.<fmt>``."""
    if len(audio) == 1 and out.suffix.lower().lstrip(".") in FORMATS and fmt is None:
        return [out]
    if out.suffix.lower().lstrip(".") in FORMATS:
        raise SystemExit(f"addon/cli.py: --out {out} is a file, but {len(audio)} audio files were given: "
                         "pass a folder")
    ext = fmt or "glb"
    names = [a.stem for a in audio]
    return [out / f"{a.stem}_{i}.{ext}" if names.count(a.stem) > 1 else out / f"{a.stem}.{ext}"
            for i, a in enumerate(audio)]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    why = check_args(args)
    if why:  # before anything starts: no server, no Blender data
        print(f"addon/cli.py: {why}", file=sys.stderr)
        return 2
    if args.result:
        return write_result(args)
    try:
        audio = audio_list(args.audio)
    except ValueError as exc:
        print(f"addon/cli.py: {exc}", file=sys.stderr)
        return 2
    if not audio:
        print("addon/cli.py: no audio files found in " + " ".join(args.audio), file=sys.stderr)
        return 2
    try:
        outs = outputs(audio, Path(args.out), args.format)
        texts = scripts(audio, args.text, args.text_file)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.server:
        os.environ["PARLEY_URL"] = args.server
    pkg = _start_blender()
    batch = importlib.import_module(f"{pkg.__name__}.batch")
    workflow = importlib.import_module(f"{pkg.__name__}.workflow")
    rate = None if args.blink_rate == "natural" else float(args.blink_rate)
    motion = workflow.motion_fields(args.head_motion, rate, args.gaze, args.brows == "on", args.seed)
    try:
        t0 = time.perf_counter()
        if args.rig:
            rig = batch.Rig(Path(args.rig), args.object, args.armature or "", args.bone or "")
            why = batch.check_rig(rig)
            if why:  # before a server starts
                print(f"addon/cli.py: {why}", file=sys.stderr)
                return 2
            face = Path(args.face) if args.face else None
            results = batch.run_rig(audio, rig, face, outs, args.fps, texts, auto_start=not args.no_start,
                                    articulation=args.articulation, motion=motion, language=args.language)
        else:
            results = batch.run(audio, Path(args.face), outs, args.fps, texts, auto_start=not args.no_start,
                                articulation=args.articulation, motion=motion, language=args.language)
    finally:
        pkg.unregister()
    failed = [r for r in results if not r.ok]
    for r in results:
        print(f"  {'ok ' if r.ok else 'FAILED'} {r.audio} → {r.out if r.ok else r.error}")
    print(f"Parley: {len(results) - len(failed)} of {len(results)} done in {time.perf_counter() - t0:.1f} s"
          + (f", {len(failed)} failed" if failed else ""))
    return 1 if failed else 0


def _argv() -> list[str]:
    return sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]


def _clean_blender_temp() -> None:
    """Remove the temporary folder Blender made for this run (the bpy module leaves it behind when it exits)."""
    import shutil

    bpy = sys.modules.get("bpy")
    tmp = getattr(getattr(bpy, "app", None), "tempdir", "") if bpy is not None else ""
    if tmp and Path(tmp).name.startswith("blender_") and Path(tmp).is_dir():
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        code = main(_argv())
    except KeyboardInterrupt:
        print("addon/cli.py: interrupted; outputs already written are kept, the one in progress is not",
              file=sys.stderr)
        code = 130
    _clean_blender_temp()
    sys.stdout.flush()
    sys.stderr.flush()
    if "bpy" in sys.modules and not sys.modules["bpy"].app.binary_path:
        # The bpy module can hang at interpreter exit (a static destructor waits on its delayed-close
        # thread); everything is written and flushed, so leave directly with the exit code.
        os._exit(code)
    if code:
        sys.exit(code)
