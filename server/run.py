"""``parley serve``: uvicorn around the app, with a SIGTERM that drains jobs instead of dropping them."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import FrameType

import uvicorn

from server.app import create_app
from server.config import ServerConfig, default_results_dir, private_dir
from server.state import ServerState

log = logging.getLogger("parley.server")


class DrainingServer(uvicorn.Server):
    """First SIGTERM/SIGINT: refuse new jobs, let admitted ones finish, give clients ``drain_grace_s`` to fetch
    results, then stop. A second signal stops at once (uvicorn's own behaviour)."""

    def __init__(self, config: uvicorn.Config, state: ServerState) -> None:
        super().__init__(config)
        self.state = state
        self.draining = False
        self.loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.draining or self.loop is None:
            super().handle_exit(sig, frame)
            return
        self.draining = True
        self.state.manager.draining = True
        self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._drain()))

    def stop_now(self) -> None:
        """Stop without draining (nothing was admitted: the models never loaded); safe from any thread."""
        self.should_exit = True

    async def _drain(self) -> None:
        m = self.state.manager
        print(f"parley serve: stopping — finishing {m.running} running and {m.waiting} queued jobs; "
              "new jobs are refused (signal again to stop now)", file=sys.stderr, flush=True)
        await m.drain()
        await asyncio.sleep(self.state.config.drain_grace_s)
        self.should_exit = True


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("serve", help="run the local inference server (HTTP API for the Blender add-on and scripts)")
    d = ServerConfig.__dataclass_fields__
    s.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--token", default=os.environ.get("PARLEY_TOKEN"),
                   help="bearer token every request but /v1/health must carry (default $PARLEY_TOKEN; generated "
                   "and printed when binding beyond loopback without one)")
    s.add_argument("--workers", type=int, default=d["workers"].default, help="jobs running at once (default 1)")
    s.add_argument("--max-queue", type=int, default=d["max_queue"].default,
                   help="jobs waiting before new ones get 503 + Retry-After (default 8)")
    s.add_argument("--max-upload-mb", type=float, default=200.0, help="largest request body (default 200 MB)")
    s.add_argument("--job-timeout", type=float, default=d["job_timeout_s"].default, help="seconds per job (600)")
    s.add_argument("--result-ttl", type=float, default=d["result_ttl_s"].default,
                   help="seconds a finished job's result is kept (3600)")
    s.add_argument("--results-dir", default=None, help=f"job files (default {default_results_dir()})")
    s.add_argument("--models", default=None, help="folder of checkpoints (default: the shipped ones)")
    s.add_argument("--allow-host", action="append", default=[], help="extra accepted Host-header name (repeatable)")
    s.add_argument("--drain-grace", type=float, default=d["drain_grace_s"].default,
                   help="after SIGTERM and the last job, seconds left to fetch results (5)")
    s.add_argument("--no-warm-up", action="store_true", help="skip the warm-up animation after loading")
    s.add_argument("--device", default="auto",
                   help="where the networks run: auto (default: CUDA when torch sees a GPU), cpu, cuda, cuda:N")
    s.add_argument("--exit-on-load-failure", action="store_true",
                   help="stop (exit code 3, the reason on stderr) when the models cannot be loaded, instead of "
                   "serving /v1/ready = 503 load_failed")
    s.set_defaults(func=cmd_serve)


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        host=args.host, port=args.port, token=args.token or None, workers=args.workers, max_queue=args.max_queue,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024), job_timeout_s=args.job_timeout,
        result_ttl_s=args.result_ttl, results_dir=Path(args.results_dir) if args.results_dir else default_results_dir(),
        models_dir=Path(args.models) if args.models else None, allow_hosts=tuple(args.allow_host),
        drain_grace_s=args.drain_grace, warm_up=not args.no_warm_up, exit_on_load_failure=args.exit_on_load_failure,
        device=args.device,
    )


def share_cores(workers: int) -> None:
    """Give each of ``workers`` concurrent jobs cores / workers OpenMP threads (unless OMP_NUM_THREADS is set).

    torch's default, every core for every job, oversubscribes the CPU when jobs run at once (16 clients on
    2 cores, bench_server.py: p95 581 → 541 and 699 → 642 ms in two back-to-back pairs). OpenMP reads the
    variable when torch loads, so this runs before that.
    """
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ and "torch" not in sys.modules:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))


def cmd_serve(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    try:
        notes = config.check()
    except ValueError as exc:
        print(f"parley serve: error: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"parley serve: {note}", file=sys.stderr, flush=True)
    share_cores(config.workers)
    # Uploads larger than 1 MB spool to disk: keep them inside the server's own folder.
    spool = config.results_dir / ".uploads"
    shutil.rmtree(spool, ignore_errors=True)
    private_dir(config.results_dir)
    private_dir(spool)
    tempfile.tempdir = str(spool)
    app = create_app(config)
    uv = uvicorn.Config(app, host=config.host, port=config.port, log_level="warning", lifespan="on",
                        timeout_graceful_shutdown=30)
    server = DrainingServer(uv, app.state.parley)
    if config.exit_on_load_failure:
        app.state.parley.on_load_failed = server.stop_now
    logging.getLogger("server").setLevel(logging.INFO)
    print(f"parley serve: http://{_url_host(config.host)}:{config.port}/v1 (models loading; /v1/ready says when)",
          file=sys.stderr, flush=True)
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits when it cannot bind (port in use, address not available)
        if exc.code:
            print(f"parley serve: error: cannot listen on {config.host}:{config.port} (see above)", file=sys.stderr)
            return 2
    if server.state.load_error:
        print(f"parley serve: error: the models failed to load: {server.state.load_error['message']}",
              file=sys.stderr)
        return 3
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host

