"""Where live audio comes from: a microphone (PortAudio through ``sounddevice``) or a file, at its real pace or as
fast as it decodes. Each yields 16 kHz mono float32 blocks; the time a block was handed over is what latency is
measured from."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from core.errors import ParleyError

RATE = 16000
BLOCK = 320  # 20 ms


def file_blocks(path: str | Path, realtime: bool, block: int = BLOCK, max_seconds: float = 3600.0,
                ) -> Iterator[np.ndarray]:
    """A file's audio in blocks; with ``realtime``, block k is handed over when its last sample would have been
    captured (k + 1 blocks after the first block's start), as a microphone delivers it."""
    from core.audio.decode import load_audio

    samples = load_audio(path, max_seconds=max_seconds).samples
    start = time.perf_counter()
    for k, s in enumerate(range(0, len(samples), block)):
        if realtime:
            wait = start + (k + 1) * block / RATE - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        yield samples[s : s + block]


def mic_blocks(device: int | str | None = None, block: int = BLOCK) -> Iterator[np.ndarray]:
    """The input device's audio (mono, resampled by PortAudio to 16 kHz) until the caller stops.

    Raises:
        ParleyError: sounddevice or PortAudio missing, no such device, or it cannot be opened.
    """
    if isinstance(device, str):
        device = int(device) if device.isdigit() else (device or None)  # an index given as text, or a name
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:
        raise ParleyError("--input mic needs the sounddevice package and PortAudio (Debian: libportaudio2): "
                          f"{exc}") from exc
    try:
        if sd.query_devices(device, "input") is None:
            raise ParleyError("no audio input device")
    except (ValueError, sd.PortAudioError) as exc:
        which = "the default input device" if device is None else f"input device {device!r}"
        raise ParleyError(f"--input mic: {which} is not available ({exc}); list devices with "
                          "`python -m sounddevice`") from exc
    q: queue.Queue[np.ndarray] = queue.Queue()

    def callback(data: np.ndarray, frames: int, when: object, status: object) -> None:
        q.put(data[:, 0].copy())

    try:
        stream = sd.InputStream(samplerate=RATE, channels=1, dtype="float32", blocksize=block, device=device,
                                callback=callback)
    except sd.PortAudioError as exc:
        raise ParleyError(f"--input mic: cannot open the input device ({exc})") from exc
    with stream:
        while True:
            try:
                yield q.get(timeout=0.25)
            except queue.Empty:  # no audio for a while: hand back an empty block so the caller can stop
                yield np.zeros(0, np.float32)
