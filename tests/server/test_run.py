"""``parley serve`` as a command: clear one-line errors for settings and a busy port."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", "serve", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_bad_settings_exit_2_with_the_option_named() -> None:
    r = serve("--workers", "0")
    assert r.returncode == 2 and "--workers 0: must be at least 1" in r.stderr
    r = serve("--port", "70000")
    assert r.returncode == 2 and "--port 70000" in r.stderr


def test_busy_port_is_reported(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = serve("--port", str(s.getsockname()[1]), "--results-dir", str(tmp_path), "--no-warm-up")
    assert r.returncode == 2 and "cannot listen on 127.0.0.1" in r.stderr


def test_exit_on_load_failure_says_why(tmp_path: Path) -> None:
    import shutil

    from core.loading import ASSETS

    models = tmp_path / "models"
    shutil.copytree(ASSETS, models)
    (models / "motion.safetensors").write_bytes(b"not a checkpoint")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = serve("--port", str(port), "--results-dir", str(tmp_path / "jobs"), "--models", str(models),
              "--exit-on-load-failure", "--no-warm-up")
    assert r.returncode == 3, r.stderr
    assert "the models failed to load" in r.stderr and "motion.safetensors" in r.stderr


def test_results_folder_is_private(tmp_path: Path) -> None:
    from server.config import private_dir

    made = private_dir(tmp_path / "a" / "parley")
    assert made.stat().st_mode & 0o777 == 0o700
    shared = tmp_path / "mine"
    shared.mkdir(mode=0o755)
    private_dir(shared)  # a folder the user chose is left as it is
    assert shared.stat().st_mode & 0o777 == 0o755


def test_long_audio_message_names_no_missing_option() -> None:
    from core.audio.decode import _check_source
    from core.errors import AudioDecodeError

    try:
        _check_source(Path("long.wav"), 16000, 1, 1200.0, 600.0)
    except AudioDecodeError as exc:
        assert "--max-duration" not in str(exc) and "10.0 min limit" in str(exc)
    else:
        raise AssertionError("a 20-minute file passed the 10-minute limit")
