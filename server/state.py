"""What every route shares — settings, the job manager, the models once loaded — and how a route reaches it
(``state_of``). The routes import this, never ``server.app``, which builds the app from both."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request

from core.animate import animate
from core.errors import ParleyError
from core.loading import ASSETS, Models, load_models
from core.reference import Reference, face_reference
from server.config import ServerConfig
from server.errors import ApiError, core_error_code
from server.jobs import JobManager
from server.work import animate_runner, reconstruct_runner, render_runner

log = logging.getLogger(__name__)
VERSION = "0.1.0"
CHECKPOINTS = ("landmark_pca", "phonetic", "expression", "motion", "blink", "smoother", "neutral", "refiner",
               "refiner_video", "live")


@dataclass
class ServerState:
    """What the routes share: settings, the job manager and the models once loaded."""

    config: ServerConfig
    manager: JobManager
    models: Models | None = None
    load_error: dict[str, str] | None = None
    load_seconds: float | None = None
    on_load_failed: Any = None  # called (no arguments) when loading fails: ``parley serve`` stops there if asked
    started: float = field(default_factory=time.perf_counter)
    live: Any = None  # server.live.Live: the one live session, made on first use

    @property
    def models_dir(self) -> Path:
        return self.config.models_dir or ASSETS

    def require_ready(self) -> Models:
        """The loaded models, or a 503 saying why not (loading, failed to load, shutting down)."""
        if self.manager.draining:
            raise ApiError(503, "shutting_down", "the server is shutting down", {"Retry-After": "10"})
        if self.load_error is not None:
            raise ApiError(503, "load_failed", f"the models failed to load: {self.load_error['message']}")
        if self.models is None:
            raise ApiError(503, "not_ready", "the models are still loading", {"Retry-After": "2"})
        return self.models

    async def load(self) -> None:
        """Load the checkpoints (and warm them up) off the event loop; record a failure instead of raising.

        Any failure counts — a missing file, a malformed ``smoothing.json``, a bug — so that ``/v1/ready`` says
        ``load_failed`` with the reason instead of "still loading" for ever.
        """
        try:
            from core.threads import one_thread

            one_thread()  # results identical to the CLI's and parley batch's for the same input and seed
            models = await asyncio.to_thread(load_models, self.models_dir, None, self.config.device)
            portrait = await asyncio.to_thread(face_reference, None)  # the default face, reconstructed once
            if self.config.warm_up:
                await asyncio.to_thread(_warm_up, models, portrait)
        except Exception as exc:  # noqa: BLE001 — every load failure must reach /v1/ready, whatever its class
            why = str(exc) if isinstance(exc, ParleyError) else f"{type(exc).__name__}: {exc}"
            self.load_error = {"error": core_error_code(exc) if isinstance(exc, ParleyError) else "load_failed",
                               "message": why}
            log.error("models failed to load: %s", why, exc_info=not isinstance(exc, ParleyError))
            if self.on_load_failed is not None:
                self.on_load_failed()
            return
        self.manager.runners["animate"] = animate_runner(models, self.config.max_audio_seconds, portrait)
        self.manager.runners["reconstruct"] = reconstruct_runner(models)
        self.manager.runners["render"] = render_runner()
        self.models = models
        self.load_seconds = time.perf_counter() - self.started
        log.info("models loaded and warmed up in %.2f s", self.load_seconds)

    def models_info(self) -> dict[str, Any]:
        from core.models.checkpoint import describe_checkpoint

        models = self.require_ready()
        items = [{"name": name, "file": path.name, **describe_checkpoint(path)}
                 for name in CHECKPOINTS if (path := self.models_dir / f"{name}.safetensors").is_file()]
        cards = {p.name: p.read_text() for p in sorted(self.models_dir.glob("MODEL_CARD_*.md"))}
        return {"models": items, "versions": models.versions(), "smoothing": models.smoothing, "cards": cards}


def _warm_up(models: Models, portrait: Reference) -> None:
    """One short animation, so the first client request does not pay for lazy initialisation."""
    from core.cli import DEMO_AUDIO

    animate(DEMO_AUDIO, portrait, fps=30, models=models, max_seconds=60)


def state_of(request: Request) -> ServerState:
    st: ServerState = request.app.state.parley
    return st
