"""``parley batch``: inputs, outputs, resuming, bad files, processes and Ray giving the same results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.batch import Settings, collect, plan, run_batch
from core.cli import main
from core.contract import AnimationResult, check_contract
from core.errors import ParleyError
from tests.conftest import DEMO_FACE, speechlike


@pytest.fixture
def lines(tmp_path: Path) -> Path:
    """Three short lines in a folder tree, and one file that is not audio."""
    d = tmp_path / "lines"
    (d / "act1").mkdir(parents=True)
    for i, sub in enumerate(["", "act1", "act1"]):
        sf.write(d / sub / f"line{i}.wav", speechlike(1.2 + 0.3 * i, seed=i), 16000)
    (d / "act1" / "broken.wav").write_bytes(b"RIFF not really a wave file")
    return d


def _result(path: Path) -> AnimationResult:
    import json

    with np.load(path) as z:
        return AnimationResult(float(z["fps"]), meta=json.loads(str(z["meta"])),
                               **{k: z[k] for k in z.files if k not in ("fps", "meta")})


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files if k != "meta"}


def test_inputs_are_collected_and_named(lines: Path, tmp_path: Path) -> None:
    lst = tmp_path / "list.txt"
    lst.write_text("# the first act\nlines/act1/line1.wav\n\n")
    files = collect([lines, lst])
    assert [f.name for f in files] == ["broken.wav", "line1.wav", "line2.wav", "line0.wav"]  # the listed repeat: once
    (lines / "act2").mkdir()
    sf.write(lines / "act2" / "line1.wav", speechlike(1.0), 16000)
    items = plan(collect([lines]), tmp_path / "out")
    names = sorted(i.out.name for i in items)
    assert "line0.npz" in names and len(set(names)) == len(names) == 5  # two line1.wav: named by their folders
    with pytest.raises(ParleyError, match="no such file"):
        collect([tmp_path / "nowhere"])
    # one take in three formats: three outputs, never one overwritten by the next
    takes = tmp_path / "takes"
    takes.mkdir()
    for ext in ("wav", "mp3", "ogg"):
        (takes / f"line.{ext}").write_bytes(b"x")
    (takes / "line_preview.mp4").write_bytes(b"x")  # a preview left beside the lines is not a line
    named = sorted(i.out.name for i in plan(collect([takes]), tmp_path / "o"))
    assert named == ["line_mp3.npz", "line_ogg.npz", "line_wav.npz"]
    assert [f.name for f in collect([takes / "line_preview.mp4"])] == ["line_preview.mp4"]  # named: it is taken
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParleyError, match="no audio"):
        collect([tmp_path / "empty"])


def test_batch_animates_every_line_skips_finished_ones_and_reports_bad_files(lines: Path, tmp_path: Path,
                                                                             capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert main(["batch", str(lines), "--out", str(out), "--workers", "2", "--fps", "25"]) == 1  # one bad file
    got = capsys.readouterr()
    text = got.out
    assert "3 animated" in text and "1 failed" in text and "broken.wav" in text
    assert "animating" not in got.err and "\r" not in got.err  # no progress bar in a log: stderr is no terminal
    for i in range(3):
        r = _result(out / f"line{i}.npz")
        check_contract(r, (1.2 + 0.3 * i))
        assert r.fps == 25.0
    assert not (out / "broken.npz").exists() and not list(out.glob(".*part*"))
    single = tmp_path / "single.npz"  # the same line through parley animate: the same result
    assert main(["animate", str(lines / "act1" / "line1.wav"), "--out", str(single), "--fps", "25"]) == 0
    a, b = _arrays(out / "line1.npz"), _arrays(single)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    stamp = (out / "line0.npz").stat().st_mtime_ns
    assert main(["batch", str(lines), "--out", str(out), "--workers", "1", "--fps", "25"]) == 1  # nothing redone
    assert "3 already done" in capsys.readouterr().out and (out / "line0.npz").stat().st_mtime_ns == stamp
    assert main(["batch", str(lines), "--out", str(out), "--workers", "1", "--fps", "25", "--seed", "4"]) == 1
    assert "3 animated" in capsys.readouterr().out  # another take: the outputs of the old one are not kept
    assert _result(out / "line0.npz").meta["seed"] == 4


def test_ray_gives_what_local_processes_give(lines: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    (lines / "act1" / "broken.wav").unlink()
    local = run_batch([str(lines)], tmp_path / "local", Settings(seed=3), workers=2)
    far = run_batch([str(lines)], tmp_path / "ray", Settings(seed=3), workers=2, ray_address="local")
    assert len(local.done) == len(far.done) == 3 and not far.failed
    for f in (tmp_path / "local").glob("*.npz"):
        a, b = _arrays(f), _arrays(tmp_path / "ray" / f.name)
        assert all(np.array_equal(a[k], b[k]) for k in a)
    with pytest.raises(ParleyError, match="no Ray cluster answers"):
        run_batch([str(lines)], tmp_path / "x", Settings(), workers=1, ray_address="ray://127.0.0.1:1")


def test_the_face_is_reconstructed_after_the_workers_fork(lines: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A process that has run MediaPipe must not be forked: the workers exist before the face is tracked, and the
    lines come out as `parley animate --face` makes them."""
    import multiprocessing as mp

    import core.batch as B
    from tests.conftest import DEMO_FACE

    (lines / "act1" / "broken.wav").unlink()
    seen: list[int] = []
    real = B.with_face

    def spy(settings: Settings) -> Settings:
        if settings.face is not None:
            seen.append(len(mp.active_children()))
        return real(settings)

    monkeypatch.setattr(B, "with_face", spy)
    out = tmp_path / "out"
    s = run_batch([str(lines)], out, Settings(seed=2, face=str(DEMO_FACE)), workers=2)
    assert len(s.done) == 3 and not s.failed and seen and seen[0] >= 2
    single = tmp_path / "single.npz"
    assert main(["animate", str(lines / "line0.wav"), "--face", str(DEMO_FACE), "--seed", "2", "--out",
                 str(single)]) == 0
    a, b = _arrays(out / "line0.npz"), _arrays(single)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_ctrl_c_stops_the_workers_with_one_line_and_no_half_files(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group: the parent answers it (exit 130, one line), the workers stop
    without their own tracebacks, and every output left is whole."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO

    src = tmp_path / "in"
    src.mkdir()
    wav = speechlike(1.0, seed=1)
    for i in range(60):
        sf.write(src / f"l{i:02d}.wav", wav, 16000)
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "core.cli", "batch", str(src), "--out", str(out), "--workers", "2",
                          "--face", str(DEMO_FACE)],
                         cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    children = Path(f"/proc/{p.pid}/task/{p.pid}/children")
    deadline = time.monotonic() + 240
    # the workers are forked, then wait while the parent reconstructs the face: an idle worker is the one that
    # printed its own traceback
    while p.poll() is None and time.monotonic() < deadline and len(children.read_text().split()) < 2:
        time.sleep(0.01)
    assert p.poll() is None, "the batch ended before it could be interrupted"
    os.killpg(p.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130 and "interrupted" in err, err
    assert "Traceback" not in err and "ForkProcess" not in err, err
    written = list(out.iterdir())
    assert len(written) < 60 and all(f.suffix == ".npz" and f.stat().st_size > 0 for f in written)


def test_holding_ctrl_c_back_needs_no_signal_masks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no pthread_sigmask: forking() and a worker's initializer then do nothing rather than fail."""
    import signal

    from core.batch import forking, ignore_interrupt

    monkeypatch.delattr(signal, "pthread_sigmask")
    with forking():
        pass
    old = signal.getsignal(signal.SIGINT)
    try:
        ignore_interrupt()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, old)
