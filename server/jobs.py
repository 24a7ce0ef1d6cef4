"""Jobs: a bounded queue, N running at once, progress, cancellation, timeouts, expiry, drain.

The work runs in threads (torch and MediaPipe release the GIL); the event loop only schedules.
Cancellation is cooperative: a job checks its flag at every progress step (between stages and
per tracked video frame), so a cancelled or timed-out job stops, and frees its slot, at its next
step. Each job owns a folder under the server's results directory (inputs, result, ``job.json``);
finished jobs survive a restart and are deleted once their time to live has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import shutil
import statistics
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ParleyError
from server.config import ServerConfig, private_dir
from server.errors import ApiError, core_error_code

log = logging.getLogger(__name__)

TERMINAL = frozenset({"done", "failed", "cancelled"})
JOB_FILE = "job.json"
Outcome = tuple[str, str | None, str]  # final state, error code, message


class JobCancelled(Exception):
    """Raised inside a job's thread at its next progress step after a cancel or a timeout."""


@dataclass
class Job:
    """One unit of work and everything a client may ask about it."""

    id: str
    kind: str  # "animate" | "reconstruct" | "render"
    dir: Path
    params: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # server-side input path → the client's file name
    state: str = "queued"  # queued → running → done | failed | cancelled
    progress: float = 0.0
    stage: str = "queued"
    error: dict[str, str] | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result_files: list[str] = field(default_factory=list)
    cancel_reason: str | None = None
    _flag: threading.Event = field(default_factory=threading.Event, repr=False)
    _done: asyncio.Event | None = field(default=None, repr=False)

    def step(self, fraction: float, stage: str) -> None:
        """Progress callback for core: records progress, or stops the job if it was cancelled."""
        if self._flag.is_set():
            raise JobCancelled(self.cancel_reason or "cancelled")
        self.progress = max(self.progress, min(1.0, float(fraction)))
        self.stage = stage

    def request_cancel(self, reason: str) -> None:
        if self.cancel_reason is None:
            self.cancel_reason = reason
        self._flag.set()
        self.stage = "cancelling"

    def public(self, ttl: float) -> dict[str, Any]:
        expires = None if self.finished is None else self.finished + ttl
        return {"id": self.id, "kind": self.kind, "state": self.state, "progress": round(self.progress, 4),
                "stage": self.stage, "error": self.error, "created_at": self.created, "started_at": self.started,
                "finished_at": self.finished, "expires_at": expires,
                "result_url": f"/v1/jobs/{self.id}/result" if self.state == "done" else None}

    def save(self) -> None:
        """Write ``job.json`` atomically (state changes only, not every progress step)."""
        keep = {k: getattr(self, k) for k in ("id", "kind", "params", "names", "state", "progress", "stage", "error",
                                             "created", "started", "finished", "result_files")}
        tmp = self.dir / (JOB_FILE + ".tmp")
        tmp.write_text(json.dumps(keep))
        tmp.replace(self.dir / JOB_FILE)

    @classmethod
    def from_dir(cls, folder: Path) -> Job:
        d = json.loads((folder / JOB_FILE).read_text())
        return cls(dir=folder, **{k: d[k] for k in d if k in cls.__dataclass_fields__ and k != "dir"})

    def sanitise(self, message: str) -> str:
        """A core error message with server paths replaced by the client's file names."""
        for path, name in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            message = message.replace(path, name)
        return message.replace(str(self.dir), "<upload>")


Runner = Callable[[Job], None]


class JobManager:
    """Admits, runs, times out, cancels and expires jobs. Create and use inside one event loop."""

    def __init__(self, config: ServerConfig, runners: dict[str, Runner]) -> None:
        self.config = config
        self.runners = runners
        self.jobs: dict[str, Job] = {}
        self.waiting = 0  # queued and not cancelled
        self.running = 0
        self.draining = False
        self.durations: deque[float] = deque(maxlen=32)
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()

    # lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        private_dir(self.config.results_dir)
        self._restore()
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.config.workers)]
        self._tasks.append(asyncio.create_task(self._sweeper()))

    async def stop(self) -> None:
        """Stop at once: unfinished jobs fail ("server_stopped") at their next step. ``drain`` first to avoid that."""
        self.draining = True
        for job in list(self.jobs.values()):
            if job.state == "queued":
                self.waiting -= 1
                self._finish(job, "failed", "server_stopped", "the server stopped before this job started")
            elif job.state == "running":
                job.request_cancel("shutdown")
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Refuse new jobs and return when every admitted one has finished."""
        self.draining = True
        await self._idle.wait()

    def _restore(self) -> None:
        """Reload jobs left by a previous run: finished ones stay fetchable; unfinished ones are marked failed."""
        for folder in sorted(self.config.results_dir.iterdir()):
            if not (folder / JOB_FILE).is_file():
                if folder.is_dir() and re.fullmatch(r"[0-9a-f]{32}", folder.name):  # inputs of a job never admitted
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            try:
                job = Job.from_dir(folder)
            except (OSError, ValueError, TypeError, KeyError):
                log.warning("%s: unreadable job record; removing it", folder)
                shutil.rmtree(folder, ignore_errors=True)
                continue
            if job.state not in TERMINAL:
                job.state, job.finished = "failed", time.time()
                job.error = {"error": "server_restarted", "message": "the server stopped before this job finished"}
                job.save()
            job._done = asyncio.Event()
            job._done.set()
            self.jobs[job.id] = job

    # admission -------------------------------------------------------------------------------
    def new_dir(self) -> tuple[str, Path]:
        """A fresh job id and its (created, private) folder, for the inputs to be written into."""
        job_id = uuid.uuid4().hex
        folder = self.config.results_dir / job_id
        folder.mkdir(mode=0o700, parents=True)
        return job_id, folder

    @contextlib.contextmanager
    def discard_on_error(self, folder: Path) -> Iterator[None]:
        """Remove a new job's folder if writing its inputs fails (e.g. the client went away mid-upload)."""
        try:
            yield
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def check_capacity(self) -> None:
        """Raise 503 (with Retry-After) if a new job could not be admitted now."""
        if self.draining:
            raise ApiError(503, "shutting_down", "the server is shutting down and takes no new jobs",
                           {"Retry-After": "10"})
        if self.running + self.waiting >= self.config.workers + self.config.max_queue:
            raise ApiError(503, "queue_full", f"{self.running} jobs running and {self.waiting} waiting; try again "
                           "shortly", {"Retry-After": str(self.retry_after())})

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: typical job time × queue depth per worker."""
        typical = statistics.median(self.durations) if self.durations else 5.0
        return max(1, min(600, math.ceil(typical * (self.waiting + 1) / self.config.workers)))

    def submit(self, job: Job) -> Job:
        """Queue a job whose inputs are already in ``job.dir``. Raises ApiError 503 when full or draining."""
        try:
            self.check_capacity()
        except ApiError:
            shutil.rmtree(job.dir, ignore_errors=True)
            raise
        job._done = asyncio.Event()
        self.jobs[job.id] = job
        self.waiting += 1
        self._idle.clear()
        job.save()
        self._queue.put_nowait(job)
        return job

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, "job_not_found", f"no job {job_id!r} (unknown, deleted or expired)")
        return job

    def cancel(self, job: Job, reason: str = "cancelled") -> None:
        """Cancel a queued job at once, a running one at its next progress step."""
        if job.state == "queued":
            self.waiting -= 1
            self._finish(job, "cancelled")
            self._update_idle()
        elif job.state == "running":
            job.request_cancel(reason)

    def delete(self, job: Job) -> None:
        """Forget a finished job and delete its files."""
        self.jobs.pop(job.id, None)
        shutil.rmtree(job.dir, ignore_errors=True)

    async def wait(self, job: Job, disconnected: Callable[[], Any] | None = None, poll: float = 0.2) -> None:
        """Wait for a job to finish; cancel it if ``disconnected()`` (awaitable) turns true first."""
        assert job._done is not None
        while not job._done.is_set():
            try:
                await asyncio.wait_for(job._done.wait(), poll)
            except TimeoutError:
                if disconnected is not None and await disconnected():
                    log.info("job %s: client disconnected; cancelling", job.id)
                    self.cancel(job, "client disconnected")
                    return

    # running ---------------------------------------------------------------------------------
    async def _worker(self) -> None:
        while True:
            job = await self._queue.get()
            if job.state != "queued":  # cancelled while waiting
                continue
            self.waiting -= 1
            self.running += 1
            job.state, job.started, job.stage = "running", time.time(), "starting"
            job.save()
            work = asyncio.ensure_future(asyncio.to_thread(self._run, job))
            outcome: Outcome = ("failed", "internal_error", "the job stopped unexpectedly; see the server log")
            try:
                outcome = await asyncio.wait_for(asyncio.shield(work), self.config.job_timeout_s)
            except TimeoutError:
                job.request_cancel("timeout")
                outcome = await work  # the thread stops at its next progress step
            finally:
                # Release the slot before the job reads as finished, all on the loop: a client that
                # sees "done" and submits again at once must find the slot free.
                self.running -= 1
                self._finish(job, *outcome)
                self._update_idle()

    def _run(self, job: Job) -> Outcome:
        """Run one job in a worker thread; returns how it ended, for the loop to record."""
        t0 = time.perf_counter()
        try:
            job.step(0.0, "starting")
            self.runners[job.kind](job)
            job.step(1.0, "done")
        except JobCancelled:
            if job.cancel_reason == "timeout":
                limit = f"the job ran over the {self.config.job_timeout_s:g} s limit (--job-timeout)"
                return "failed", "timeout", limit
            if job.cancel_reason == "shutdown":
                return "failed", "server_stopped", "the server stopped before this job finished"
            return "cancelled", None, ""
        except ParleyError as exc:
            return "failed", core_error_code(exc), job.sanitise(str(exc))
        except Exception as exc:  # a bug (ours or a library's): the job fails as a server fault; the server stays up
            log.exception("job %s failed unexpectedly", job.id)
            why = f"{type(exc).__name__}: {job.sanitise(str(exc))}"
            return "failed", "internal_error", f"Parley hit a bug processing this job ({why}); see the server log"
        self.durations.append(time.perf_counter() - t0)
        return "done", None, ""

    def _finish(self, job: Job, state: str, code: str | None = None, message: str = "") -> None:
        """Record how a job ended (with its error when it failed), save it, and wake its waiters."""
        if code is not None:
            job.error = {"error": code, "message": message}
        job.state, job.stage, job.finished = state, state, time.time()
        if state == "done":
            job.progress = 1.0
        try:
            job.save()
        except OSError:  # deleted under us (DELETE while running): nothing to keep
            pass
        if job._done is not None:
            job._done.set()

    def _update_idle(self) -> None:
        if self.running == 0 and self.waiting == 0:
            self._idle.set()

    # expiry ----------------------------------------------------------------------------------
    def sweep(self, now: float | None = None) -> int:
        """Delete finished jobs older than the time to live; returns how many."""
        now = time.time() if now is None else now
        ttl = self.config.result_ttl_s
        old = [j for j in self.jobs.values() if j.state in TERMINAL and (j.finished or now) + ttl < now]
        for job in old:
            self.delete(job)
        return len(old)

    async def _sweeper(self) -> None:
        period = max(1.0, min(60.0, self.config.result_ttl_s / 4))
        while True:
            await asyncio.sleep(period)
            self.sweep()
