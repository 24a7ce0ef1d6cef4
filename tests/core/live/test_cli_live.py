"""``parley live``: a file (at its real pace or not) → JSON lines and OSC; Ctrl-C stops cleanly; every mistake is one
line."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import soundfile as sf

from core.audio.features import frame_count
from core.cli import main
from core.live.osc import parse
from tests.conftest import REPO, speechlike


def voice(tmp_path: Path, seconds: float) -> Path:
    path = tmp_path / f"v{seconds:g}.wav"
    sf.write(path, speechlike(seconds, seed=5), 16000)
    return path


def read(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_jsonl_starts_with_the_wall_clock_then_one_line_per_frame(tmp_path: Path) -> None:
    out = tmp_path / "f.jsonl"
    t0 = time.time()
    assert main(["live", "--input", str(voice(tmp_path, 1.5)), "--jsonl", str(out)]) == 0
    lines = read(out)
    assert lines[0]["event"] == "started" and t0 <= lines[0]["wall"] <= time.time()
    frames = [x for x in lines if "frame" in x]
    n = frame_count(1.5, 30.0)
    assert [f["frame"] for f in frames] == list(range(n)) and lines[-1] == {"event": "ended", "frames": n}
    for f in frames:
        assert set(f) == {"frame", "t", "arkit", "pose", "blink"}
        assert f["t"] == pytest.approx((f["frame"] + 1) / 30.0, abs=1e-4)
        assert len(f["arkit"]) == 52 and len(f["pose"]) == 6 and len(f["blink"]) == 2


def test_realtime_paces_the_file_and_frames_arrive_as_it_plays(tmp_path: Path) -> None:
    out = tmp_path / "rt.jsonl"
    t0 = time.perf_counter()
    assert main(["live", "--input", str(voice(tmp_path, 1.2)), "--realtime", "--fps", "25", "--jsonl", str(out)]) == 0
    assert time.perf_counter() - t0 >= 1.1
    frames = [x for x in read(out) if "frame" in x]
    assert len(frames) == frame_count(1.2, 25.0)


def test_osc_sends_one_bundle_per_frame(tmp_path: Path) -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.5)
    got: list[bytes] = []

    def listen() -> None:
        while True:
            try:
                got.append(rx.recvfrom(65536)[0])
            except TimeoutError:
                return

    t = threading.Thread(target=listen)
    t.start()
    assert main(["live", "--input", str(voice(tmp_path, 1.0)), "--osc", f"127.0.0.1:{rx.getsockname()[1]}"]) == 0
    t.join()
    rx.close()
    assert len(got) == frame_count(1.0, 30.0)
    first = parse(got[0])
    assert first[0] == ("/frame", [0, pytest.approx(1 / 30, abs=1e-5)]) and first[1][0] == "/head"
    assert {a for a, _ in first[2:]} >= {"/jawOpen", "/eyeBlinkLeft", "/mouthClose"} and len(first) == 54


@pytest.mark.parametrize("args, words", [
    (["--input", "nope.wav", "--jsonl", "-"], "no such file"),
    (["--input", "VOICE"], "--jsonl PATH|- and/or --osc"),
    (["--input", "mic", "--realtime", "--jsonl", "-"], "real time already"),
    (["--input", "VOICE", "--osc", "localhost"], "HOST:PORT"),
    (["--input", "VOICE", "--jsonl", "-", "--fps", "0"], "fps"),
    (["--input", "mic", "--device", "no-such-device-xyz", "--jsonl", "-"], "--input mic"),
    (["--input", "VOICE", "--jsonl", "-", "--model", "VOICE"], "checkpoint"),
])
def test_mistakes_are_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                     words: str) -> None:
    path = str(voice(tmp_path, 0.5))
    assert main(["live", *[path if a == "VOICE" else a for a in args]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


def test_ctrl_c_stops_cleanly_with_a_last_line(tmp_path: Path) -> None:
    path = voice(tmp_path, 6.0)
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "live", "--input", str(path), "--realtime",
                             "--jsonl", "-"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = [json.loads(proc.stdout.readline())]
    while "frame" not in lines[-1] or lines[-1]["frame"] < 10:
        lines.append(json.loads(proc.stdout.readline()))
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=30)
    lines += [json.loads(x) for x in rest.splitlines()]
    assert proc.returncode == 0, err
    assert lines[-1]["event"] == "stopped" and lines[-1]["frames"] < frame_count(6.0, 30.0)
    assert "stopped after" in err
