"""A live session in the background: one thread runs the engine over an audio source and keeps the recent frames
for readers (the server's stream route); ``stop`` ends it between blocks. No HTTP here."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np

from core.live.engine import LiveEngine

#: Frames kept for readers that fall behind (10 s at 30 fps): memory stays flat however long the session runs.
KEEP = 300


class LiveSession:
    """``engine`` over ``blocks`` in a thread. States: running → ended (the input ran out) | stopped | failed."""

    def __init__(self, engine: LiveEngine, blocks: Iterator[np.ndarray]) -> None:
        self.engine, self.blocks = engine, blocks
        self.frames: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self.count = 0
        self.state = "running"
        self.error: str | None = None
        self.started_wall: float | None = None
        self._stop = threading.Event()
        self._new = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="parley-live", daemon=True)

    def start(self) -> LiveSession:
        self.thread.start()
        return self

    def _push(self, frames: list[Any]) -> None:
        if not frames:
            return
        with self._new:
            for f in frames:
                d = f.as_json()
                self.frames.append(d)
            self.count += len(frames)
            self._new.notify_all()

    def _run(self) -> None:
        try:
            for samples in self.blocks:
                if self.started_wall is None:
                    self.started_wall = time.time()
                if self._stop.is_set():
                    break
                self._push(self.engine.feed(samples))
            if not self._stop.is_set():
                self._push(self.engine.finish())
            state = "stopped" if self._stop.is_set() else "ended"
        except Exception as exc:  # noqa: BLE001 — a device that vanishes mid-stream must end the session, not hang it
            self.error, state = f"{type(exc).__name__}: {exc}", "failed"
        finally:
            close = getattr(self.blocks, "close", None)
            if close is not None:
                close()  # a microphone stream is released here
        with self._new:
            self.state = state
            self._new.notify_all()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self.thread.join(timeout)

    def read(self, after: int, timeout: float) -> list[dict[str, Any]]:
        """Frames with index ≥ ``after`` still kept, waiting up to ``timeout`` s for one if there is none yet."""
        with self._new:
            if self.count <= after and self.state == "running":
                self._new.wait(timeout)
            return [f for f in self.frames if f["frame"] >= after]
