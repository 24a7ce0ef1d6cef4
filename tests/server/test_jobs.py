"""JobManager with stand-in runners: admission, 503 + Retry-After, cancel, timeout, restart, expiry, drain."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from core.errors import AudioDecodeError
from server.config import ServerConfig
from server.errors import ApiError, error_status
from server.jobs import Job, JobManager


def slow_runner(seconds: float, step: float = 0.01) -> Callable[[Job], None]:
    def run(job: Job) -> None:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            job.step((time.perf_counter() - t0) / seconds, "working")
            time.sleep(step)
        (job.dir / "out.txt").write_text(job.id)
        job.result_files = ["out.txt"]

    return run


def failing_runner(job: Job) -> None:
    raise AudioDecodeError(f"{job.dir / 'audio.bin'}: the audio is silent throughout")


def crashing_runner(job: Job) -> None:
    raise RuntimeError("library blew up")


def run_with(config: ServerConfig, runners: dict[str, Callable[[Job], None]],
             body: Callable[[JobManager], Awaitable[None]]) -> None:
    async def main() -> None:
        m = JobManager(config, runners)
        await m.start()
        try:
            await body(m)
        finally:
            await m.stop()

    asyncio.run(main())


def new_job(m: JobManager, kind: str = "slow", names: dict[str, str] | None = None) -> Job:
    job_id, folder = m.new_dir()
    return Job(job_id, kind, folder, {}, names or {})


async def finished(m: JobManager, job: Job) -> None:
    await asyncio.wait_for(m.wait(job), 10)


def test_queue_bound_503_with_retry_after_and_order(tmp_path: Path) -> None:
    cfg = ServerConfig(results_dir=tmp_path, workers=1, max_queue=2)

    async def body(m: JobManager) -> None:
        jobs = [m.submit(new_job(m)) for _ in range(3)]  # 1 running + 2 waiting
        with pytest.raises(ApiError) as e:
            m.submit(new_job(m))
        assert e.value.status == 503 and e.value.code == "queue_full"
        assert int(e.value.headers["Retry-After"]) >= 1
        assert len(list(tmp_path.iterdir())) == 3  # the refused job's folder was removed
        for j in jobs:
            await finished(m, j)
        assert [j.state for j in jobs] == ["done"] * 3
        assert sorted(j.started or 0 for j in jobs) == [j.started for j in jobs]  # first in, first run
        assert all((j.dir / "out.txt").read_text() == j.id for j in jobs)
        m.submit(new_job(m))  # room again

    run_with(cfg, {"slow": slow_runner(0.2)}, body)


def test_cancel_queued_and_running_frees_slots(tmp_path: Path) -> None:
    cfg = ServerConfig(results_dir=tmp_path, workers=1, max_queue=1)

    async def body(m: JobManager) -> None:
        running, waiting = m.submit(new_job(m)), m.submit(new_job(m))
        await asyncio.sleep(0.2)
        assert running.state == "running" and 0 < running.progress < 1
        m.cancel(waiting)
        assert waiting.state == "cancelled"  # at once
        t0 = time.perf_counter()
        m.cancel(running)
        await finished(m, running)
        assert running.state == "cancelled" and time.perf_counter() - t0 < 0.5
        assert m.running == 0 and m.waiting == 0
        nxt = m.submit(new_job(m))  # both slots free again
        m.submit(new_job(m))
        await asyncio.sleep(0.1)
        assert nxt.state == "running"

    run_with(cfg, {"slow": slow_runner(5.0)}, body)


def test_timeout_fails_job_and_frees_slot(tmp_path: Path) -> None:
    cfg = ServerConfig(results_dir=tmp_path, workers=1, max_queue=0, job_timeout_s=0.3)

    async def body(m: JobManager) -> None:
        job = m.submit(new_job(m))
        await finished(m, job)
        assert job.state == "failed" and job.error is not None and job.error["error"] == "timeout"
        assert "0.3 s" in job.error["message"]
        await asyncio.sleep(0.05)
        assert m.running == 0
        m.submit(new_job(m))

    run_with(cfg, {"slow": slow_runner(5.0)}, body)


def test_core_error_keeps_its_class_and_message_without_server_paths(tmp_path: Path) -> None:
    cfg = ServerConfig(results_dir=tmp_path)

    async def body(m: JobManager) -> None:
        job_id, folder = m.new_dir()
        job = m.submit(Job(job_id, "fail", folder, {}, {str(folder / "audio.bin"): "voice.wav"}))
        await finished(m, job)
        assert job.error == {"error": "audio_decode_error", "message": "voice.wav: the audio is silent throughout"}
        crash = m.submit(new_job(m, "crash"))
        await finished(m, crash)
        assert crash.state == "failed" and crash.error is not None
        assert crash.error["error"] == "internal_error" and "library blew up" in crash.error["message"]
        assert error_status(crash.error["error"]) == 500  # a bug is the server's fault, not the client's input

    run_with(cfg, {"fail": failing_runner, "crash": crashing_runner}, body)


def test_disconnected_waiter_cancels(tmp_path: Path) -> None:
    cfg = ServerConfig(results_dir=tmp_path)

    async def body(m: JobManager) -> None:
        job = m.submit(new_job(m))
        calls = 0

        async def gone() -> bool:
            nonlocal calls
            calls += 1
            return calls >= 2

        await m.wait(job, gone, poll=0.05)
        await finished(m, job)
        assert job.state == "cancelled"

    run_with(cfg, {"slow": slow_runner(5.0)}, body)


def test_restart_keeps_finished_and_fails_unfinished(tmp_path: Path) -> None:
    cfg = ServerConfig(results_dir=tmp_path)
    ids: dict[str, str] = {}

    async def first(m: JobManager) -> None:
        done = m.submit(new_job(m))
        await finished(m, done)
        ids["done"] = done.id
        stuck = new_job(m)
        stuck.state = "running"
        stuck.save()  # as if the process died mid-job
        ids["stuck"] = stuck.id
        (tmp_path / ("a" * 32)).mkdir()  # inputs of a job that was never admitted

    async def second(m: JobManager) -> None:
        assert m.get(ids["done"]).state == "done"
        assert (m.get(ids["done"]).dir / "out.txt").is_file()
        stuck = m.get(ids["stuck"])
        assert stuck.state == "failed" and stuck.error is not None and stuck.error["error"] == "server_restarted"
        assert not (tmp_path / ("a" * 32)).exists()
        with pytest.raises(ApiError) as e:
            m.get("0" * 32)
        assert e.value.status == 404

    run_with(cfg, {"slow": slow_runner(0.05)}, first)
    run_with(cfg, {"slow": slow_runner(0.05)}, second)


def test_expiry_deletes_results(tmp_path: Path) -> None:
    cfg = ServerConfig(results_dir=tmp_path, result_ttl_s=60)

    async def body(m: JobManager) -> None:
        job = m.submit(new_job(m))
        await finished(m, job)
        assert m.sweep(now=time.time() + 30) == 0
        assert m.sweep(now=time.time() + 61) == 1
        assert not job.dir.exists()
        with pytest.raises(ApiError):
            m.get(job.id)

    run_with(cfg, {"slow": slow_runner(0.01)}, body)


def test_drain_refuses_new_and_finishes_admitted(tmp_path: Path) -> None:
    cfg = ServerConfig(results_dir=tmp_path, workers=1, max_queue=4)

    async def body(m: JobManager) -> None:
        jobs = [m.submit(new_job(m)) for _ in range(3)]
        drain = asyncio.create_task(m.drain())
        await asyncio.sleep(0.01)
        with pytest.raises(ApiError) as e:
            m.submit(new_job(m))
        assert e.value.code == "shutting_down" and e.value.status == 503
        await asyncio.wait_for(drain, 10)
        assert [j.state for j in jobs] == ["done"] * 3

    run_with(cfg, {"slow": slow_runner(0.1)}, body)
