"""``parley serve`` as a command: clear one-line errors for settings and a busy port."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", "serve", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


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
