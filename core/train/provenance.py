"""Where a checkpoint came from: the code's git commit and a hash of the data it was trained on.

Written into every checkpoint ``parley train`` makes (safetensors metadata), and reported by ``describe_checkpoint``
and the server's ``/v1/models``, so a shipped file always says how it was made.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def git_commit(repo: Path = REPO) -> str:
    """The repository's HEAD commit, with "+dirty" when files differ from it; "unknown" outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "core", "server"],
                               cwd=repo, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty else "")


def manifest_hash(data_dir: Path) -> str:
    """SHA-256 (16 hex digits) of a prepared dataset's manifest.json; "" when there is none."""
    f = Path(data_dir) / "manifest.json"
    return hashlib.sha256(f.read_bytes()).hexdigest()[:16] if f.is_file() else ""


def provenance(*data_dirs: Path) -> dict[str, str]:
    """Metadata for a checkpoint trained now on ``data_dirs``."""
    out = {"git_commit": git_commit()}
    for i, d in enumerate(data_dirs):
        key = "data" if i == 0 else f"data_{i}"
        out[key] = Path(d).name
        out[f"{key}_manifest_sha256"] = manifest_hash(Path(d))
    return out
