"""A prepared dataset's ``manifest.json`` (made by ``parley data prepare`` or ``parley data phones``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import ParleyError


def manifest_clips(data_dir: Path, command: str = "parley data prepare VIDEOS") -> list[dict[str, Any]]:
    """The manifest's clip entries.

    Raises:
        ParleyError: no manifest (the folder was not prepared), saying which command makes it.
    """
    manifest = Path(data_dir) / "manifest.json"
    if not manifest.is_file():
        raise ParleyError(f"{data_dir}: no manifest.json; run `{command} --out {data_dir}` first")
    return list(json.loads(manifest.read_text())["clips"])
