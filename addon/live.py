"""Live mode's plumbing without bpy: a thread reads the server's live stream into a queue; the main thread's timer
takes the frames (``take``) and keeps the newest to show, and the recorded ones as a take (``Take``).

Nothing here touches Blender data, so it runs (and is tested) anywhere; ``live_scene`` applies the frames.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .client import ParleyClient, ServerError, ServerUnavailable


class LiveFeed:
    """The server's live session ``live_id`` read in a thread; ``take()`` hands the frames that arrived since."""

    def __init__(self, client: ParleyClient, live_id: str) -> None:
        self.client, self.id = client, live_id
        self.q: queue.Queue[dict[str, Any]] = queue.Queue()
        self.state = "running"
        self.error: str | None = None
        self.started_wall: float | None = None
        self.thread = threading.Thread(target=self._read, name="parley-live-feed", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.client.live_lines(self.id):
                event = line.get("event")
                if event == "started":
                    self.started_wall = line.get("wall")
                elif event is not None:
                    self.state = str(event)
                    self.error = line.get("error")
                    return
                else:
                    self.q.put(line)
            self.state = "ended"
        except (ServerError, ServerUnavailable) as exc:
            self.state, self.error = "failed", str(exc)

    def take(self) -> list[dict[str, Any]]:
        """Every frame that arrived since the last call, in order (never blocks)."""
        out = []
        while True:
            try:
                out.append(self.q.get_nowait())
            except queue.Empty:
                return out

    def stop(self) -> None:
        """Ask the server to stop the session (its stream then ends); quiet if it is already gone."""
        try:
            self.client.stop_live(self.id)
        except (ServerError, ServerUnavailable):
            pass
        self.thread.join(2.0)


@dataclass
class Take:
    """Recorded frames: ARKit weights (52), pose (6), blink (2) per frame, in the order they came."""

    arkit: list[np.ndarray] = field(default_factory=list)
    pose: list[np.ndarray] = field(default_factory=list)
    blink: list[np.ndarray] = field(default_factory=list)

    def add(self, frame: dict[str, Any]) -> None:
        self.arkit.append(np.asarray(frame["arkit"], np.float64))
        self.pose.append(np.asarray(frame["pose"], np.float64))
        self.blink.append(np.asarray(frame["blink"], np.float64))

    def __len__(self) -> int:
        return len(self.arkit)

    def motion(self, fps: float, names: tuple[str, ...]) -> Any:
        """The take as a ``motion.Motion``, the same thing an offline result becomes (expression left empty: a
        take drives ARKit keys)."""
        from .motion import Motion

        n = len(self)
        return Motion(float(fps), np.zeros((n, 20)), np.stack(self.pose), np.stack(self.blink),
                      {"parley": "live"}, np.stack(self.arkit), list(names))


class Rate:
    """Frames applied per second over the last two seconds (what the panel shows)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def tick(self, n: int = 1) -> None:
        now = time.perf_counter()
        self.times += [now] * n
        self.times = [t for t in self.times if now - t <= 2.0]

    @property
    def per_second(self) -> float:
        if len(self.times) < 2:
            return 0.0
        span = max(self.times[-1] - self.times[0], 1e-3)
        return (len(self.times) - 1) / span
