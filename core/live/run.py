"""``parley live``: audio blocks → the engine → JSON lines and/or OSC bundles, until the input ends or Ctrl-C."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import numpy as np

from core.live.engine import LiveEngine, LiveFrame

ASSETS = Path(__file__).resolve().parents[1] / "assets"
LIVE_MODEL = ASSETS / "live.safetensors"


def load_live(path: str | Path = LIVE_MODEL):  # type: ignore[no-untyped-def]
    """Ψ-live from a checkpoint (CheckpointError for a missing or wrong file)."""
    from core.models.live import LiveNet

    return LiveNet.load(path)


class Outputs:
    """Where frames go: a JSON-lines stream (flushed per line) and/or an OSC target."""

    def __init__(self, jsonl: IO[str] | None, osc: object | None) -> None:
        from core.face.arkit import ARKIT_NAMES

        self.jsonl, self.osc, self.names = jsonl, osc, tuple(ARKIT_NAMES)
        self.frames = 0

    def event(self, **fields: object) -> None:
        if self.jsonl is not None:
            self.jsonl.write(json.dumps(fields) + "\n")
            self.jsonl.flush()

    def frame(self, f: LiveFrame) -> None:
        self.frames += 1
        if self.jsonl is not None:
            self.jsonl.write(json.dumps(f.as_json()) + "\n")
            self.jsonl.flush()
        if self.osc is not None:
            from core.live.osc import frame_bundle

            self.osc.send(frame_bundle(f.frame, f.t, self.names, f.arkit, f.pose))  # type: ignore[attr-defined]


def stream(engine: LiveEngine, blocks: Iterable[np.ndarray], out: Outputs, block: int) -> int:
    """Run until the blocks end (the last frames then finished with silence) or Ctrl-C; the frames written."""
    started = False
    try:
        for samples in blocks:
            if not started:
                out.event(event="started", wall=time.time(), rate=16000, block=block, fps=engine.fps,
                          lookahead_s=engine.net.cfg.lookahead_s)
                started = True
            for f in engine.feed(samples):
                out.frame(f)
        for f in engine.finish():
            out.frame(f)
        out.event(event="ended", frames=out.frames)
    except KeyboardInterrupt:
        out.event(event="stopped", frames=out.frames)
        print(f"parley live: stopped after {out.frames} frames", file=sys.stderr)
    return out.frames
