"""Server work off the main thread: a worker thread → a queue → a ``bpy.app.timers`` function.

The worker only does HTTP and file reading; it never touches bpy data. The timer function drains the
queue on the main thread: progress messages update the panel and the status bar, and the final
message hands the result to the task's ``finish`` callback, which writes Blender data. In background
mode (``blender -b``, the bpy module) timers never fire, so callers run the work synchronously instead.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import bpy

#: Work run in the thread: (report_progress(fraction, stage), should_stop()) → result.
Work = Callable[[Callable[[float, str], None], Callable[[], bool]], Any]
#: Main-thread completion: (result or None, error or None).
Finish = Callable[[Any, BaseException | None], None]


@dataclass
class Task:
    label: str
    work: Work
    finish: Finish
    progress: float = 0.0
    stage: str = "starting"
    _queue: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def cancel(self) -> None:
        self._stop.set()
        self.stage = "cancelling"

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        def report(fraction: float, stage: str) -> None:
            self._queue.put(("progress", (fraction, stage)))

        try:
            self._queue.put(("done", self.work(report, self._stop.is_set)))
        except BaseException as exc:  # every failure travels to the main thread, where it is reported
            self._queue.put(("error", exc))


_active: Task | None = None


def active() -> Task | None:
    """The task now running, if any (one at a time: the panel shows its progress and a Cancel button)."""
    return _active


def start(task: Task) -> None:
    """Run ``task.work`` in a thread and poll its queue from a timer."""
    global _active
    if _active is not None:
        raise RuntimeError(f"Parley is busy: {_active.label}")
    _active = task
    task._thread = threading.Thread(target=task._run, name=f"parley-{task.label}", daemon=True)
    task._thread.start()
    _status(task)
    if not bpy.app.timers.is_registered(pump):
        bpy.app.timers.register(pump, first_interval=0.1)


def pump() -> float | None:
    """Timer body (also callable by hand): apply queued messages; returns the next interval, None when done."""
    global _active
    task = _active
    if task is None:
        return None
    while True:
        try:
            kind, payload = task._queue.get_nowait()
        except queue.Empty:
            _redraw()
            return 0.1
        if kind == "progress":
            task.progress, task.stage = payload
            _status(task)
            continue
        _active = None
        _status(None)
        try:
            if kind == "done":
                task.finish(payload, None)
            else:
                task.finish(None, payload)
        finally:
            _redraw()
        return None


def wait(timeout: float = 600.0) -> None:
    """Block until the active task's thread ends, then pump (tests; never called from the UI)."""
    task = _active
    if task is not None and task._thread is not None:
        task._thread.join(timeout)
    pump()
    stop_timer()


def shutdown() -> None:
    """On unregister: cancel the running task and forget it — its result is never applied (its operators and
    properties are gone) — and drop the polling timer, which would otherwise outlive the add-on."""
    global _active
    task = _active
    if task is not None:
        task.cancel()
        _active = None
        _status(None)
    if bpy.app.timers.is_registered(pump):
        bpy.app.timers.unregister(pump)


def stop_timer() -> None:
    """Drop the polling timer (on unregister, and where timers never fire: a timer left registered there
    keeps the bpy module from exiting)."""
    if _active is None and bpy.app.timers.is_registered(pump):
        bpy.app.timers.unregister(pump)


def _status(task: Task | None) -> None:
    text = None if task is None else f"Parley: {task.label} — {task.stage} ({task.progress:.0%})"
    for window in getattr(bpy.context.window_manager, "windows", []):
        workspace = window.workspace
        if workspace is not None:
            workspace.status_text_set(text)


def _redraw() -> None:
    for window in getattr(bpy.context.window_manager, "windows", []):
        for area in window.screen.areas:
            if area.type in ("VIEW_3D", "PREFERENCES"):
                area.tag_redraw()
