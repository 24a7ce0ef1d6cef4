"""Shared fixtures: synthetic speech-like audio, ffmpeg encoding, the GRID folder when present."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
GRID = REPO.parent / "shared" / "data" / "grid"
FIXTURES = REPO / "tests" / "fixtures"


def load_script(name: str, folder: str = "scripts"):  # type: ignore[no-untyped-def]
    """A script of scripts/ (or another folder) imported as a module (they are not a package)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{folder}_{name}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_addon_cli():  # type: ignore[no-untyped-def]
    """``addon/cli.py`` as a module (its argument handling needs no bpy)."""
    return load_script("cli", "addon")


def speechlike(seconds: float = 2.0, rate: int = 16000, seed: int = 0) -> np.ndarray:
    """Voiced, syllable-rate amplitude-modulated harmonics with pauses: enough like speech for I/O tests."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 2 * (t % 1.0 < 0.8)
    x = 0.3 * voice * envelope + 0.003 * rng.standard_normal(len(t))
    return (x / np.abs(x).max() * 0.5).astype(np.float32)


def ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture
def wav_path(tmp_path: Path) -> Path:
    p = tmp_path / "speech.wav"
    sf.write(p, speechlike(), 16000)
    return p


@pytest.fixture
def grid_dir() -> Path:
    if not GRID.is_dir():
        pytest.skip("../shared/data/grid is not present (fresh clone)")
    return GRID


DEMO_FACE = REPO / "core" / "assets" / "demo_face.jpg"
FIXTURE_VIDEO = FIXTURES / "grid" / "s4" / "bbilzs.mp4"


# The bpy module (Blender 4.5 as a Python module, imported by tests/addon) can hang at interpreter exit: its
# "delayed close" thread still waits on a condition variable that a static destructor then destroys. Once
# pytest has printed its summary, leave at once with pytest's own exit status.
_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    import os
    import sys

    if "bpy" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
