"""Server fixtures: an in-process app (ASGI, lifespan run), a real ``parley serve`` on 127.0.0.1, test media."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from PIL import Image

from server.app import create_app
from server.config import ServerConfig
from tests.conftest import DEMO_FACE, FIXTURE_VIDEO, REPO, ffmpeg, speechlike

TOKEN = "test-token-1234"


def wav_bytes(seconds: float = 1.5, seed: int = 0, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, speechlike(seconds, rate, seed), rate, format="WAV")
    return buf.getvalue()


def silent_wav(seconds: float = 1.0) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(int(16000 * seconds), np.float32), 16000, format="WAV")
    return buf.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def blank_png() -> bytes:
    return png_bytes(Image.new("RGB", (320, 240), (120, 130, 140)))


def small_face_png() -> bytes:
    """The demo portrait shrunk until the face is about 40 px across (tracked, but too small)."""
    img = Image.open(DEMO_FACE).convert("RGB")
    return png_bytes(img.resize((img.width // 6, img.height // 6)))


def demo_face() -> bytes:
    return DEMO_FACE.read_bytes()


def fixture_video() -> bytes:
    return FIXTURE_VIDEO.read_bytes()


@pytest.fixture(scope="session")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The fixture clip looped to 24 s (600 frames): tracking it takes seconds (a job worth cancelling)."""
    out = tmp_path_factory.mktemp("media") / "long.mp4"
    ffmpeg("-stream_loop", "7", "-i", str(FIXTURE_VIDEO), "-c", "copy", str(out))
    return out.read_bytes()


def wait_ready(get: Callable[[str], Any], timeout: float = 90.0) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            r = get("/v1/ready")
            if r.status_code == 200:
                return
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "not_ready", r.text
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError("server did not become ready")


def make_client(tmp: Path, **settings: object) -> TestClient:
    cfg = ServerConfig(results_dir=tmp, warm_up=False, **settings)  # type: ignore[arg-type]
    return TestClient(create_app(cfg), base_url="http://127.0.0.1:8765", raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """In-process app with default settings, models loaded."""
    with make_client(tmp_path_factory.mktemp("jobs"), max_audio_seconds=20.0) as c:
        wait_ready(c.get)
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    """A ``parley serve`` subprocess."""

    proc: subprocess.Popen[bytes]
    port: int
    results: Path
    token: str | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kw: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        kw.setdefault("timeout", 60)
        return httpx.Client(base_url=self.url, headers=headers, **kw)  # type: ignore[arg-type]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


def start_live(results: Path, *args: str, token: str | None = TOKEN, port: int | None = None) -> Live:
    port = port or free_port()
    cmd = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--results-dir", str(results),
           "--no-warm-up", *args]
    env = {**os.environ, "PARLEY_TOKEN": token or ""}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    live = Live(proc, port, results, token)
    with live.client() as c:
        try:
            wait_ready(c.get)
        except TimeoutError:
            proc.kill()
            raise AssertionError((proc.stderr.read() if proc.stderr else b"").decode()[-3000:]) from None
    return live


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A real server: token set, 2 workers, queue of 4, 5 MB upload limit."""
    srv = start_live(tmp_path_factory.mktemp("live"), "--workers", "2", "--max-queue", "4", "--max-upload-mb", "5",
                     "--drain-grace", "0.5")
    yield srv
    srv.stop()
