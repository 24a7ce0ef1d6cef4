"""The FastAPI application: lifespan (models load in the background), middleware, routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server.config import ServerConfig
from server.errors import install_handlers
from server.jobs import JobManager
from server.live import router as live_router
from server.routes import router
from server.security import Guard
from server.state import VERSION, ServerState


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """Build the app. Nothing heavy happens here: models load in the lifespan, in the background."""
    config = config or ServerConfig()
    state = ServerState(config, JobManager(config, {}))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.manager.start()
        loading = asyncio.create_task(state.load())
        try:
            yield
        finally:
            state.manager.draining = True
            if state.live is not None:
                await asyncio.to_thread(state.live.end)
            await state.manager.stop()
            if not loading.done():
                loading.cancel()

    about = "Local inference server for Parley: face reconstruction and speech-driven animation."
    app = FastAPI(title="Parley", version=VERSION, lifespan=lifespan, openapi_url="/v1/openapi.json",
                  docs_url="/v1/docs", redoc_url=None, description=about)
    app.state.parley = state
    install_handlers(app)
    app.include_router(router)
    app.include_router(live_router)
    app.add_middleware(Guard, config=config)
    return app
