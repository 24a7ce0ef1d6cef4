"""Server settings: one dataclass, checked once, with safe defaults (loopback, bounded queue, size limits)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def default_results_dir() -> Path:
    """Where job inputs and results live: ``$PARLEY_SERVER_DIR`` or the user's cache folder."""
    if os.environ.get("PARLEY_SERVER_DIR"):
        return Path(os.environ["PARLEY_SERVER_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "parley" / "server"


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing, the folder itself readable by this user only (0700).

    An existing folder is left as it is: the user chose it. ``mkdir(mode=0o700, parents=True)`` would not do:
    the parents it creates get the umask's mode, and so would the results folder as a parent of its spool.
    """
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    return path


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class ServerConfig:
    """Everything ``parley serve`` can be told. Sizes in bytes, times in seconds."""

    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    max_queue: int = 8  # jobs waiting (not running) before new ones get 503
    workers: int = 1  # jobs running at once
    max_upload_bytes: int = 200 * 1024 * 1024  # one request body
    max_audio_seconds: float = 600.0
    job_timeout_s: float = 600.0
    result_ttl_s: float = 3600.0  # finished jobs (and their files) are deleted after this
    results_dir: Path = field(default_factory=default_results_dir)
    models_dir: Path | None = None  # None: the shipped checkpoints
    allow_hosts: tuple[str, ...] = ()  # extra Host-header names (a LAN name when bound beyond loopback)
    drain_grace_s: float = 5.0  # after SIGTERM and the last job, time left for clients to fetch results
    warm_up: bool = True  # run one tiny animation after loading so the first request is not slow
    exit_on_load_failure: bool = False  # stop the server (exit code 3) when the models cannot be loaded
    device: str = "auto"  # where the networks run: "auto" (CUDA when torch sees a GPU), "cpu", "cuda", "cuda:N"

    def check(self) -> list[str]:
        """Validate; returns notices for the person starting the server (e.g. a generated token).

        Raises:
            ValueError: a setting out of range, with the option named.
        """
        if not (0 <= self.port <= 65535):
            raise ValueError(f"--port {self.port}: must be 0–65535")
        if self.workers < 1:
            raise ValueError(f"--workers {self.workers}: must be at least 1")
        if self.max_queue < 0:
            raise ValueError(f"--max-queue {self.max_queue}: must be 0 or more")
        if self.max_upload_bytes < 1024:
            raise ValueError("--max-upload-mb: must be at least 1 KiB")
        if self.job_timeout_s <= 0 or self.result_ttl_s <= 0:
            raise ValueError("--job-timeout and --result-ttl must be positive")
        notes = []
        if not is_loopback(self.host) and not self.token:
            self.token = secrets.token_urlsafe(24)
            notes.append(
                f"binding to {self.host}, reachable from other machines: every request needs the header\n"
                f"  Authorization: Bearer {self.token}\n(pass --token to choose it)"
            )
        return notes

    def allowed_hosts(self) -> set[str]:
        """Host-header names accepted (ports are not compared): loopback, the bind address, --allow-host."""
        names = {*LOOPBACK_NAMES, *self.allow_hosts}
        if self.host not in ("0.0.0.0", "::"):
            names.add(self.host)
        return {n.lower().strip("[]") for n in names}
