"""``parley batch``: many voice lines animated at once — on local processes or on a Ray cluster.

The inputs (files, folders searched for audio, ``.txt`` lists of paths) become items, each with its output path in
``--out`` and, when a ``NAME.txt`` lies beside ``NAME.wav`` (a dialogue file, as Rhubarb reads them), its script.
An item whose output already exists, made with the same settings (recorded in its meta ``batch``), is skipped
(outputs are written whole under a temporary name, then renamed, so an existing file is a finished one). The face is
reconstructed once, in the parent; each worker loads the models once and animates its share. A bad file never stops
the rest: it is reported with its message at the end. Local processes and Ray run the same ``animate_item``, so
their outputs are identical.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ParleyError

#: Audio that ``parley batch`` picks up from folders.
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".aif", ".aiff", ".wma"})
#: Video with sound is animated when named (a file argument or a line of a .txt list), never picked up from a folder:
#: a folder of lines often holds the previews and renders made from them.
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm"})


@dataclass(frozen=True)
class Item:
    audio: Path
    out: Path
    script: Path | None = None  # the line's dialogue file (NAME.txt beside NAME.wav)


@dataclass
class Settings:
    """What every line shares: the face (a prepared Reference; None: the built-in portrait) and the options."""

    reference: Any = None  # core.reference.Reference
    fps: float = 30.0
    seed: int = 0
    articulation: float = 1.0
    motion: Any = None  # core.take.Spontaneous
    models: str | None = None  # a folder of checkpoints (None: the shipped ones)
    language: str = "en"  # the dialogue files' language
    scripts: bool = True  # read NAME.txt beside NAME.wav
    face: str | None = None  # a photo or video to reconstruct once for every line (``reference`` is then made from it)


    def key(self, item: Item) -> str:
        """Everything that decides a line's result besides its audio, as one string stored in the output's meta
        (``batch``): a rerun redoes an output whose settings differ, and keeps the rest."""
        import hashlib
        import json

        if self.face is not None:
            face = hashlib.sha256(Path(self.face).read_bytes()).hexdigest()[:16]
        elif self.reference is not None:
            face = hashlib.sha256(np_bytes(self.reference.identity)).hexdigest()[:16]
        else:
            face = "portrait"
        script = hashlib.sha256(item.script.read_bytes()).hexdigest()[:16] if item.script is not None else ""
        motion = self.motion.as_dict() if self.motion is not None else {}
        return json.dumps({"fps": self.fps, "seed": self.seed, "articulation": self.articulation, "motion": motion,
                           "models": self.models or "shipped", "language": self.language, "face": face,
                           "script": script}, sort_keys=True)


def np_bytes(a: Any) -> bytes:
    import numpy as np

    return np.ascontiguousarray(a, dtype=np.float32).tobytes()


def finished(item: Item, settings: Settings) -> bool:
    """The item's output exists and was made with these settings (older outputs, without a record, count as made
    with them)."""
    if not item.out.is_file():
        return False
    import json

    try:
        if item.out.suffix == ".npz":
            import numpy as np

            with np.load(item.out, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
        else:
            meta = json.loads(json.loads(item.out.read_text())["meta"])
    except (OSError, ValueError, KeyError):
        return False  # unreadable: make it again
    made = meta.get("batch")
    return made is None or made == settings.key(item)


@dataclass
class Outcome:
    item: Item
    error: str = ""  # "" when it worked
    audio_seconds: float = 0.0
    skipped: bool = False


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error]

    @property
    def done(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.error and not o.skipped]

    def text(self) -> str:
        audio = sum(o.audio_seconds for o in self.done)
        rate = audio / self.seconds if self.seconds > 0 else 0.0
        lines = [f"{len(self.done)} animated ({audio:.1f} s of audio in {self.seconds:.1f} s: {rate:.0f}× real time), "
                 f"{sum(o.skipped for o in self.outcomes)} already done, {len(self.failed)} failed"]
        lines += [f"  failed: {o.item.audio}: {o.error}" for o in self.failed]
        return "\n".join(lines)


def collect(inputs: Iterable[str | Path]) -> list[Path]:
    """Audio files from files, folders (searched recursively, sorted) and ``.txt`` lists (one path per line, relative
    to the list; blank lines and ``#`` comments ignored).

    Raises:
        ParleyError: an input that does not exist, or inputs with no audio in them at all.
    """
    out: list[Path] = []
    for raw in inputs:
        p = Path(raw)
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
            raise ParleyError(f"{raw}: no such file or folder")
    if not out:
        raise ParleyError("no audio files in " + ", ".join(str(i) for i in inputs))
    return list(dict.fromkeys(out))


def dialogue_file(audio: Path) -> Path | None:
    """``NAME.txt`` beside ``NAME.wav`` (any case of the suffix), or None."""
    for suffix in (".txt", ".TXT"):
        f = audio.with_suffix(suffix)
        if f.is_file():
            return f
    return None


def plan(files: list[Path], out_dir: Path, fmt: str = "npz", scripts: bool = True) -> list[Item]:
    """Each file's output: ``out_dir/<stem>.<fmt>``. Outputs never collide: a stem that repeats gets its suffix
    (``line_wav``, ``line_mp3``) and, if it still repeats, its parent folders' names in front. With ``scripts``,
    each line's dialogue file (``dialogue_file``) goes with it."""
    if fmt not in ("npz", "json"):
        raise ParleyError(f"--format {fmt}: npz or json")

    def counts(names: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for n in names:
            out[n] = out.get(n, 0) + 1
        return out

    names = [f.stem for f in files]
    stems = counts(names)
    names = [n if stems[n] == 1 else f"{n}_{f.suffix.lstrip('.').lower()}" for n, f in zip(names, files, strict=True)]
    again = counts(names)
    names = [n if again[n] == 1 else "__".join([*f.resolve().parent.parts[-2:], n]).lstrip("/")
             for n, f in zip(names, files, strict=True)]
    last = counts(names)
    names = [n if last[n] == 1 else f"{n}_{i}" for i, n in enumerate(names)]
    return [Item(f, out_dir / f"{n}.{fmt}", dialogue_file(f) if scripts else None)
            for f, n in zip(files, names, strict=True)]


_WORKER: dict[str, Any] = {}


def _models(settings: Settings) -> Any:
    """The models, loaded once per process."""
    key = settings.models or ""
    if _WORKER.get("key") != key or "models" not in _WORKER:
        from core.loading import default_models, load_models

        _WORKER.update(key=key, models=load_models(settings.models) if settings.models else default_models())
    return _WORKER["models"]


def animate_item(item: Item, settings: Settings) -> Outcome:
    """Animate one line into its output (written whole or not at all); any failure is its outcome, not a raise."""
    from core.animate import animate
    from core.speech.script import read_script
    from core.threads import one_thread

    one_thread()  # one line per process: the processes are the parallelism (and the CLI's results, bit for bit)
    try:
        text = read_script(item.script) if item.script is not None else None
        res = animate(item.audio, settings.reference, fps=settings.fps, models=_models(settings), seed=settings.seed,
                      articulation=settings.articulation, motion=settings.motion, text=text,
                      language=settings.language)
        if item.script is not None:
            res.meta["script_file"] = str(item.script)
        res.meta["batch"] = settings.key(item)
        tmp = item.out.with_name(f".{item.out.stem}.part{item.out.suffix}")
        res.save(tmp)
        os.replace(tmp, item.out)
        return Outcome(item, audio_seconds=float(res.meta["audio"]["duration_s"]))
    except Exception as exc:  # noqa: BLE001 — one bad file never stops the batch; its message is the outcome
        return Outcome(item, error=str(exc) or type(exc).__name__)


def _chunk(items: list[Item], settings: Settings) -> list[Outcome]:
    return [animate_item(i, settings) for i in items]


def chunks(items: list[Item], n: int) -> list[list[Item]]:
    """``items`` dealt into about ``n`` runs of neighbours (each worker pays its start-up once per chunk)."""
    size = max(1, -(-len(items) // max(1, n)))
    return [items[i : i + size] for i in range(0, len(items), size)]


def with_face(settings: Settings) -> Settings:
    """``settings`` with its face (``Settings.face``) reconstructed into ``reference``, once."""
    if settings.face is None or settings.reference is not None:
        return settings
    from dataclasses import replace

    from core.reference import face_reference

    return replace(settings, reference=face_reference(settings.face))


def _ready(_: int) -> int:
    return os.getpid()


def ignore_interrupt() -> None:
    """A worker's initializer: Ctrl-C reaches the whole process group, but only the parent answers it (it stops
    the workers); a worker that took it too would print its own traceback ("Process ForkProcess-2: …"). A
    Ctrl-C that came while the worker was being forked (see ``forking``) was held back, and is dropped here."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def forking() -> Iterator[None]:
    """Hold Ctrl-C back while worker processes are forked (a child must not take it before its initializer runs);
    the parent gets a held one as soon as the workers exist."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):  # Windows: workers are spawned, not forked; nothing to hold
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def run_local(items: list[Item], settings: Settings, workers: int,
              progress: Callable[[Outcome], None] | None = None) -> Iterator[Outcome]:
    """Animate ``items`` on ``workers`` processes (1: in this process), yielding outcomes as they finish.

    The workers are forked after the models load (they share the parent's copy) and before the face is
    reconstructed: a process that has run MediaPipe must not be forked (its graph's threads do not survive it).
    """
    if workers <= 1 or len(items) <= 1:
        settings = with_face(settings)
        for item in items:
            o = animate_item(item, settings)
            if progress:
                progress(o)
            yield o
        return
    import multiprocessing as mp

    _models(settings)  # loaded before the fork: every worker shares the parent's copy
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=ignore_interrupt)
    try:
        with forking():
            list(pool.map(_ready, range(workers)))  # every worker forked now, before MediaPipe runs here
        settings = with_face(settings)
        futures = [pool.submit(_chunk, c, settings) for c in chunks(items, workers * 2)]
        for fut in as_completed(futures):
            for o in fut.result():
                if progress:
                    progress(o)
                yield o
    except BaseException:  # Ctrl-C, or the caller stopped early: no waiting for the chunks in flight
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def run_ray(items: list[Item], settings: Settings, address: str, workers: int,
            progress: Callable[[Outcome], None] | None = None) -> Iterator[Outcome]:
    """The same work as ``run_local`` on a Ray cluster (``address``: "auto", "ray://host:10001", or "local" for an
    in-process cluster of ``workers`` CPUs). The outputs land where the items say: on a cluster of several machines
    ``--out`` must be a shared folder.

    Raises:
        ParleyError: the ``ray`` package is missing or the cluster does not answer.
    """
    try:
        import ray
    except ImportError as exc:
        raise ParleyError("--ray needs the ray package: pip install 'ray[default]'") from exc
    started = False
    if not ray.is_initialized():
        try:
            if address == "local":
                ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        except Exception as exc:  # noqa: BLE001 — Ray raises many kinds; the person needs one line
            raise ParleyError(f"--ray {address}: no Ray cluster answers ({exc})") from exc
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_chunk)
        refs = [remote.remote(c, settings) for c in chunks(items, workers * 2)]
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for o in ray.get(ready[0]):
                if progress:
                    progress(o)
                yield o
    finally:
        if started:
            ray.shutdown()


def run_batch(inputs: list[str], out_dir: str | Path, settings: Settings, fmt: str = "npz", workers: int = 0,
              ray_address: str | None = None,
              progress: Callable[[Outcome, int], None] | None = None) -> Summary:
    """Animate every audio file in ``inputs`` into ``out_dir`` (see the module's text); ``progress`` gets each
    outcome and the number of items to do. ``workers`` 0: one per CPU core."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items = plan(collect(inputs), out, fmt, settings.scripts)
    done = {i for i in items if finished(i, settings)}
    summary = Summary([Outcome(i, skipped=True) for i in items if i in done])
    todo = [i for i in items if i not in done]
    n = workers or os.cpu_count() or 1

    def seen(o: Outcome) -> None:
        if progress:
            progress(o, len(todo))

    work = run_ray(todo, with_face(settings), ray_address, n, seen) if ray_address else \
        run_local(todo, settings, n, seen)
    summary.outcomes += list(work)
    summary.seconds = time.perf_counter() - t0
    return summary
