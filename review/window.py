"""``parley preview``: a PyQt6 window that plays a take — the person's head with the sound — with a scrubber, the
curves under it and export buttons, for directors who review outside Blender.

Frames are rendered by the head renderer (``core.face.shade``) in a worker thread, nearest-first from the playhead,
and cached; playback shows the newest rendered frame at or before the playhead while the rest fill in. The sound
plays through QtMultimedia and is the clock when there is one (else a monotonic timer). Nothing here draws Blender
data: GLB/FBX export runs the add-on's own command line (``review.model.export_command``) as a separate process.
"""

from __future__ import annotations

import threading
import time
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, QProcess, QRectF, Qt, QTimer, QUrl, pyqtSignal
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

from review.model import CURVES, Take, describe, export_command

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
    def __init__(self, take: Take, head: Any, background: bool = True) -> None:
        super().__init__()
        self.take = take
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
        self.status = QLabel(describe(take))
        buttons = QHBoxLayout()
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.time_label, 1)
        self.exports = {}
        for suffix in ("glb", "fbx", "mp4"):
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
        self.process: QProcess | None = None
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
        if path is None:
            default = str(self.take.path.with_suffix("." + suffix))
            path, _ = QFileDialog.getSaveFileName(self, f"Export {suffix.upper()}", default, f"*.{suffix}")
            if not path:
                return
        if suffix == "mp4":
            self._export_mp4(Path(path))
            return
        if self.process is not None:
            self.status.setText("an export is already running")
            return
        try:
            cmd = export_command(self.take, Path(path))
        except Exception as exc:  # noqa: BLE001 — shown to the person, not raised into Qt
            self.status.setText(str(exc))
            return
        self.process = QProcess(self)
        self.process.finished.connect(lambda code, _s, p=path: self._exported(p, code))
        self.status.setText(f"exporting {Path(path).name} through the Blender add-on …")
        self.process.start(cmd[0], cmd[1:])

    def _exported(self, path: str, code: int) -> None:
        err = bytes(self.process.readAllStandardError().data()).decode(errors="replace") if self.process else ""
        self.process = None
        self.status.setText(f"wrote {path}" if code == 0 else f"export failed: {err.strip()[-300:]}")

    def _export_mp4(self, path: Path) -> None:
        from core.preview import encode_video

        frames = (self.cache.render_now(i) for i in range(self.take.frames))
        self.status.setText(f"writing {path.name} …")
        QApplication.processEvents()
        encode_video(frames, SIZE, self.take.fps, self.take.audio, path)
        self.status.setText(f"wrote {path}")

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self.cache.stop()
        if self.player is not None:
            self.player.stop()
        super().closeEvent(event)


def run(take: Take, head: Any, screenshot: str | Path | None = None, at: float | None = None) -> int:
    """Open the window (``screenshot``: render it off-screen at ``at`` seconds, default a third in, save a PNG and
    close)."""
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
