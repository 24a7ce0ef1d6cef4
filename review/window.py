"""``parley preview``: a PyQt6 window that plays a take — the person's head with the sound — with a scrubber, the
curves under it and export buttons, for directors who review outside Blender.

Frames are rendered by the head renderer (``core.face.shade``) in a worker thread, nearest-first from the playhead,
and cached; playback shows the newest rendered frame at or before the playhead while the rest fill in. The sound
plays through QtMultimedia and is the clock when there is one (else a monotonic timer). Nothing here draws Blender
data: exports (``review.model.export_take``) write the reviewed curves as they are, in a worker thread — GLB through
core's glTF writer, FBX/.blend through the add-on's own exporter in a separate process, MP4 from the frame cache.
"""

from __future__ import annotations

import sys
import threading
import time
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, QRectF, Qt, QTimer, QUrl, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from core.errors import ParleyError
from review.model import CURVES, EXPORTS, Take, check_exportable, describe, export_take

SIZE = 384


class FrameCache(QObject):
    """Renders frames in a thread, the ones nearest the playhead first; emits ``ready(index)``."""

    ready = pyqtSignal(int)

    def __init__(self, take: Take, head: Any, size: int = SIZE) -> None:
        super().__init__()
        from core.face.shade import HeadRenderer

        self.take = take
        self.renderer = HeadRenderer(head, size)
        self.frames: dict[int, np.ndarray] = {}
        self.want = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="parley-preview-frames", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def render_now(self, i: int) -> np.ndarray:
        if i not in self.frames:
            self.frames[i] = self.renderer.render(self.take.arkit[i], self.take.pose[i])
        return self.frames[i]

    def nearest(self, i: int) -> np.ndarray | None:
        """The frame ``i`` if rendered, else the closest rendered one before it (playback never waits)."""
        for j in range(i, -1, -1):
            if j in self.frames:
                return self.frames[j]
        return None

    def _run(self) -> None:
        n = self.take.frames
        while not self._stop.is_set() and len(self.frames) < n:
            start = self.want
            todo = next((j for j in chain(range(start, n), range(start)) if j not in self.frames), None)
            if todo is None:
                break
            self.render_now(todo)
            self.ready.emit(todo)


class CurvePlot(QWidget):
    """The take's curves, one row each, with the playhead; a click or drag seeks."""

    seek = pyqtSignal(float)

    def __init__(self, take: Take) -> None:
        super().__init__()
        self.take = take
        self.curves = take.curves()
        self.position = 0.0
        self.setMinimumHeight(40 * len(CURVES))

    def set_position(self, seconds: float) -> None:
        self.position = seconds
        self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 — Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        p.fillRect(0, 0, w, h, QColor("#202225"))
        row = h / len(CURVES)
        left = 110
        x = np.linspace(left, w - 6, self.take.frames)
        for k, (label, colour) in enumerate(CURVES):
            top = k * row
            p.setPen(QColor("#9a9da3"))
            p.drawText(QRectF(6, top, left - 10, row), Qt.AlignmentFlag.AlignVCenter, label)
            c = self.curves[k]
            lo, hi = float(c.min()), float(c.max())
            if k in (0, 4):  # weights: their own 0–1 scale, so a still mouth looks still
                lo, hi = 0.0, max(1.0, hi)
            span = hi - lo if hi > lo else 1.0
            y = top + row - 4 - (c - lo) / span * (row - 8)
            p.setPen(QPen(QColor(colour), 1.4))
            for i in range(1, len(x)):
                p.drawLine(int(x[i - 1]), int(y[i - 1]), int(x[i]), int(y[i]))
        px = left + (w - 6 - left) * self.position / max(self.take.duration, 1e-9)
        p.setPen(QPen(QColor("#ffffff"), 1.0))
        p.drawLine(int(px), 0, int(px), h)
        p.end()

    def _seek_to(self, xpos: float) -> None:
        left = 110
        frac = (xpos - left) / max(1.0, self.width() - 6 - left)
        self.seek.emit(float(np.clip(frac, 0.0, 1.0)) * self.take.duration)

    def mousePressEvent(self, event: Any) -> None:  # noqa: N802
        self._seek_to(event.position().x())

    def mouseMoveEvent(self, event: Any) -> None:  # noqa: N802
        self._seek_to(event.position().x())


class PreviewWindow(QMainWindow):
    exported = pyqtSignal(str)  # the status line an export ends with, sent from its worker thread

    def __init__(self, take: Take, head: Any, background: bool = True) -> None:
        super().__init__()
        self.take = take
        self.head = head
        self.setWindowTitle(f"Parley preview — {describe(take)}")
        self.cache = FrameCache(take, head)
        self.view = QLabel()
        self.view.setFixedSize(SIZE, SIZE)
        self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, take.frames - 1)
        self.plot = CurvePlot(take)
        self.play_button = QPushButton("Play")
        self.time_label = QLabel()
        self.status = QLabel(describe(take) if not take.missing_face else
                             f"the result's face ({Path(take.missing_face).name}) is not here: the built-in portrait "
                             "is shown, exports are refused (give --face)")
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.time_label, 1)
        self.exports = {}
        for suffix in (e.lstrip(".") for e in EXPORTS):
            b = QPushButton(f"Export {suffix.upper()}")
            b.clicked.connect(lambda _=False, s=suffix: self.export(s))
            buttons.addWidget(b)
            self.exports[suffix] = b
        top = QHBoxLayout()
        top.addWidget(self.view)
        top.addWidget(self.plot, 1)
        layout = QVBoxLayout()
        layout.addLayout(top)
        layout.addWidget(self.slider)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        root = QWidget()
        root.setLayout(layout)
        self.setCentralWidget(root)
        self.resize(1100, SIZE + 120)

        self.player: Any = None
        self._audio_out: Any = None
        if take.audio is not None:
            try:
                from PyQt6.QtMultimedia import QAudioOutput, QMediaPlayer

                self.player = QMediaPlayer(self)
                self._audio_out = QAudioOutput(self)
                self.player.setAudioOutput(self._audio_out)
                self.player.setSource(QUrl.fromLocalFile(str(take.audio.resolve())))
            except Exception:  # noqa: BLE001 — no sound device/back end: the picture still plays, on a timer
                self.player = None
        self.playing = False
        self._t0 = 0.0
        self._from = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(15)
        self.timer.timeout.connect(self._tick)
        self.slider.valueChanged.connect(lambda i: self.show_time(i / take.fps, from_slider=True))
        self.plot.seek.connect(self.seek)
        self.play_button.clicked.connect(self.toggle)
        self.cache.ready.connect(self._frame_ready)
        self.export_thread: threading.Thread | None = None
        self._closing = threading.Event()
        self.exported.connect(self._exported)
        self.show_time(0.0, exact=True)
        if background:
            self.cache.start()

    # -- time -----------------------------------------------------------------------------------------------
    def now(self) -> float:
        if self.player is not None and self.playing:
            return float(self.player.position()) / 1000.0
        return self._from + (time.monotonic() - self._t0 if self.playing else 0.0)

    def toggle(self) -> None:
        if self.playing:
            self._from = self.now()
            self.playing = False
            if self.player is not None:
                self.player.pause()
            self.timer.stop()
            self.play_button.setText("Play")
            return
        if self._from >= self.take.duration - 1e-3:
            self._from = 0.0
        self.playing = True
        self._t0 = time.monotonic()
        if self.player is not None:
            self.player.setPosition(int(self._from * 1000))
            self.player.play()
        self.timer.start()
        self.play_button.setText("Pause")

    def seek(self, seconds: float) -> None:
        self._from = seconds
        self._t0 = time.monotonic()
        if self.player is not None:
            self.player.setPosition(int(seconds * 1000))
        self.show_time(seconds)

    def _tick(self) -> None:
        t = self.now()
        if t >= self.take.duration:
            self.toggle()
            t = self.take.duration
        self.show_time(t)

    def show_time(self, seconds: float, exact: bool = False, from_slider: bool = False) -> None:
        i = self.take.frame_at(seconds)
        if from_slider and not self.playing:
            self._from = seconds
            if self.player is not None:
                self.player.setPosition(int(seconds * 1000))
        self.cache.want = i
        img = self.cache.render_now(i) if exact else self.cache.nearest(i)
        if img is not None:
            self._show(img)
        self.plot.set_position(seconds)
        self.slider.blockSignals(True)
        self.slider.setValue(i)
        self.slider.blockSignals(False)
        done = 100 * len(self.cache.frames) // self.take.frames
        self.time_label.setText(f"{seconds:6.2f} s / {self.take.duration:.2f} s   frame {i + 1}/{self.take.frames}"
                                + ("" if done >= 100 else f"   (rendering {done} %)"))

    def _frame_ready(self, i: int) -> None:
        if not self.playing and i == self.take.frame_at(self._from):
            self.show_time(self._from)

    def _show(self, rgb: np.ndarray) -> None:
        h, w = rgb.shape[:2]
        img = QImage(np.ascontiguousarray(rgb).tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.view.setPixmap(QPixmap.fromImage(img))

    # -- export ---------------------------------------------------------------------------------------------
    def export(self, suffix: str, path: str | None = None) -> None:
        """Export in a worker thread (the window keeps playing); the status line says when it is written."""
        if self.export_thread is not None and self.export_thread.is_alive():
            self.status.setText("an export is already running")
            return
        if path is None:
            default = str(self.take.path.with_suffix("." + suffix))
            path, _ = QFileDialog.getSaveFileName(self, f"Export {suffix.upper()}", default, f"*.{suffix}")
            if not path:
                return
        out = Path(path)
        try:
            check_exportable(self.take, out)
        except ParleyError as exc:
            self.status.setText(str(exc))
            return
        for b in self.exports.values():
            b.setEnabled(False)
        self.status.setText(f"writing {out.name} …")
        self.export_thread = threading.Thread(target=self._export, args=(out,), name="parley-export", daemon=True)
        self.export_thread.start()

    def _export(self, out: Path) -> None:
        from core.face.shade import HeadRenderer

        renderer: list[Any] = []

        def frame(i: int) -> np.ndarray:  # the cache's frame when it has one, else this thread's own renderer
            got = self.cache.frames.get(i)
            if got is not None:
                return got
            if not renderer:
                renderer.append(HeadRenderer(self.head, SIZE))
            return renderer[0].render(self.take.arkit[i], self.take.pose[i])

        try:
            export_take(self.take, self.head, out, frame, SIZE, self._closing.is_set)
            line = f"wrote {out}"
        except ParleyError as exc:
            line = f"export failed: {exc}"
        except Exception as exc:  # noqa: BLE001 — shown to the person, never raised into Qt
            line = f"export failed: {type(exc).__name__}: {exc}"
        self.exported.emit(line)

    def _exported(self, line: str) -> None:
        for b in self.exports.values():
            b.setEnabled(True)
        self.status.setText(line)

    def wait_export(self, timeout: float = 120.0) -> bool:
        """Wait for a running export (tests, and closing the window); True when none is left running."""
        deadline = time.monotonic() + timeout
        while self.export_thread is not None and self.export_thread.is_alive() and time.monotonic() < deadline:
            self.export_thread.join(0.05)
            QApplication.processEvents()
        QApplication.processEvents()
        return self.export_thread is None or not self.export_thread.is_alive()

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self._closing.set()  # an MP4 being written stops (its part file is removed); a GLB/FBX finishes
        self.cache.stop()
        if self.player is not None:
            self.player.stop()
        super().closeEvent(event)


def quiet_qt() -> None:
    """Keep Qt's own warnings (no PulseAudio server, an off-screen platform's missing features) out of the
    person's terminal; errors still show. ``parley -v preview`` keeps them all."""
    from PyQt6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: Any, message: str | None) -> None:
        if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            print(f"Qt: {message}", file=sys.stderr)

    qInstallMessageHandler(handler)


def run(take: Take, head: Any, screenshot: str | Path | None = None, at: float | None = None,
        quiet: bool = True) -> int:
    """Open the window (``screenshot``: render it off-screen at ``at`` seconds, default a third in, save a PNG and
    close)."""
    if quiet:
        quiet_qt()
    app = QApplication.instance() or QApplication([])
    win = PreviewWindow(take, head, background=screenshot is None)
    if screenshot is not None:
        t = at if at is not None else take.duration / 3
        win.seek(t)
        win.show_time(t, exact=True)
        win.show()
        app.processEvents()
        ok = win.grab().save(str(screenshot))
        win.close()
        return 0 if ok else 1
    win.show()
    return int(app.exec())
