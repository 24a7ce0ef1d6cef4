"""Starting a local ``parley serve`` for the animator (no bpy: a subprocess and a status cache).

The default executable is the one the README's setup script made: the zip's ``local.json`` records
the repository's ``.venv/bin/parley`` at build time; otherwise ``parley`` on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from .client import ParleyClient, ServerUnavailable

_HERE = Path(__file__).resolve().parent
_process: subprocess.Popen[bytes] | None = None
_status: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def default_executable() -> str:
    """The README's ``parley``: recorded in ``local.json`` when the zip was built, else found on PATH."""
    try:
        recorded = json.loads((_HERE / "local.json").read_text())["parley"]
        if Path(recorded).is_file():
            return str(recorded)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    checkout = _HERE.parent / ".venv" / "bin" / "parley"  # running from the repository (addon/cli.py)
    if checkout.is_file():
        return str(checkout)
    return shutil.which("parley") or "parley"


def start(executable: str, url: str, token: str = "", log_dir: str | None = None) -> subprocess.Popen[bytes]:
    """Start ``parley serve`` on the URL's host and port; returns at once (the models load in the background).

    Raises:
        FileNotFoundError: the executable does not exist (message says where it was looked for).
    """
    global _process
    exe = executable or default_executable()
    if not (Path(exe).is_file() or shutil.which(exe)):
        raise FileNotFoundError(f"the Parley server program was not found at '{exe}': run the README's setup "
                                "(bash setup.sh) or set its path in the add-on preferences")
    u = urlparse(url)
    host, port = u.hostname or "127.0.0.1", u.port or 8765
    env = dict(os.environ)
    if token:
        env["PARLEY_TOKEN"] = token
    cmd = [exe, "serve", "--host", host, "--port", str(port)]
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        with open(Path(log_dir) / "server.log", "ab") as log:  # the child keeps its own copy of the handle
            _process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    else:
        _process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    with _lock:
        _status.pop(url, None)
    return _process


def is_local_url(url: str) -> bool:
    """Whether a URL points at this machine (only then may the add-on start a server for it)."""
    return (urlparse(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def started_here() -> bool:
    return _process is not None and _process.poll() is None


def stop() -> None:
    """Stop the server this Blender session started (if any)."""
    global _process
    if _process is not None and _process.poll() is None:
        _process.terminate()
        try:
            _process.wait(10)
        except subprocess.TimeoutExpired:
            _process.kill()
    _process = None


def wait_ready(client: ParleyClient, timeout: float = 120.0) -> None:
    """Block (worker thread only) until the server is ready, or raise its status as an error."""
    t0 = time.monotonic()
    status = client.status()
    while status != "ready":
        if status not in ("not running", "loading") or time.monotonic() - t0 > timeout:
            break
        if _process is not None and _process.poll() is not None:
            status = f"the local server exited with code {_process.returncode}"
            break
        time.sleep(0.25)
        status = client.status()
    if status != "ready":
        raise ServerUnavailable(f"the Parley server at {client.url} is {status}")


def cached_status(url: str, token: str, max_age: float = 2.0) -> str:
    """The server's status line without blocking the UI: refreshed in a thread when older than ``max_age``."""
    now = time.monotonic()
    with _lock:
        when, text = _status.get(url, (0.0, "checking…"))
        if now - when < max_age:
            return text
        _status[url] = (now, text)  # one refresh at a time

    def refresh() -> None:
        result = ParleyClient(url, token).status()
        with _lock:
            _status[url] = (time.monotonic(), result)

    threading.Thread(target=refresh, daemon=True).start()
    return text
