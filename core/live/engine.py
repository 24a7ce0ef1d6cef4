"""The live engine: audio samples in as they arrive, finished frames out as soon as their look-ahead is heard.

Frame t covers audio [t/fps, (t+1)/fps), as offline. It is written once the stream holds audio up to
t/fps + ``lookahead_s`` (+ 12.5 ms, the half-window of the last mel frame Ψ-live reads), which for the shipped
look-ahead is shortly after the frame's own last sample. Per frame: Ψ-live (``core.models.live``) gives the
expression and head pose, the ARKit weights are solved from the expression through the person's fitted head
(``core.face.retarget``, one frame at a time), and blinks and gaze come from causal versions of the offline
processes (``core.live.spontaneous``): a blink's hazard depends on the speech heard so far; a gaze shift on the
fixation's drawn length; a brow raise on a pitch accent once it is heard. Memory stays flat: only the last mel
frames and samples the next frame needs are kept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import torch

from core.audio.features import FeatureConfig, mel_filterbank
from core.live.spontaneous import LiveBlinks, LiveBrows, LiveGaze
from core.models.live import LiveNet, RunningMean, silence_rows
from core.models.spontaneous import pitch_span, segment_f0
from core.reference import Reference
from core.take import Spontaneous

FEATURES = FeatureConfig()
HALF = FEATURES.win_length // 2  # samples either side of a mel frame's centre
BLOCK = 320  # samples per step (20 ms)
PITCH_KEEP = 4000  # samples kept for the pitch windows (0.25 s: a frame's window and the look-ahead after it)
PITCH_WIN = pitch_span()[0]
PITCH_SPAN = PITCH_WIN + int(pitch_span()[1][-1]) + 1  # a frame's pitch segment (samples)


@dataclass
class LiveFrame:
    """One finished frame: index, audio time at its end (s), ARKit weights (52, Apple's order), pose (6), blink (2)."""

    frame: int
    t: float
    arkit: np.ndarray
    pose: np.ndarray
    blink: np.ndarray
    expression: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(20, np.float32))

    def as_json(self) -> dict[str, object]:
        return {"frame": self.frame, "t": round(self.t, 6), "arkit": [round(float(x), 5) for x in self.arkit],
                "pose": [round(float(x), 6) for x in self.pose], "blink": [round(float(x), 5) for x in self.blink]}


class StreamingMel:
    """Log-mel frames at 100 Hz computed as the samples arrive, equal to ``core.audio.features.log_mel`` of the
    whole stream (frame i centred on sample 160·i; zeros before the stream starts)."""

    def __init__(self) -> None:
        self.buf = np.zeros(HALF, np.float32)  # the silence before sample 0
        self.start = -HALF  # the stream index of buf[0]
        self.fed = 0
        self.next = 0  # the next mel frame to compute
        self.window = np.hanning(FEATURES.win_length + 2)[1:-1].astype(np.float32)
        self.fb = mel_filterbank(FEATURES).T.copy()

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """New samples → the mel frames (n, 80) they complete."""
        from scipy import fft

        self.buf = np.concatenate([self.buf, np.asarray(samples, np.float32)])
        self.fed += len(samples)
        hop = FEATURES.hop_length
        last = (self.fed - HALF) // hop  # frame i is complete once sample 160·i + 200 − 1 is in
        if last < self.next:
            return np.zeros((0, FEATURES.n_mels), np.float32)
        idx = np.arange(self.next, last + 1)
        lo = idx * hop - HALF - self.start
        frames = self.buf[lo[:, None] + np.arange(FEATURES.win_length)[None]]
        spec = fft.rfft(frames * self.window, n=FEATURES.n_fft, axis=1)
        mel = np.log((spec.real**2 + spec.imag**2).astype(np.float32) @ self.fb + FEATURES.floor).astype(np.float32)
        self.next = last + 1
        keep = self.next * hop - HALF - self.start  # drop the samples no later frame needs
        self.buf = self.buf[keep:]
        self.start += keep
        return mel


class CausalRange:
    """The offline lip-range step (``core.models.articulation``) as the stream allows it: the opening's running 90th
    percentile over the speech of the last ``window_s`` is brought to the talker range Ψ's config sets
    (``range_level × open_p90``), by a gain that moves slowly and only once enough speech has been heard. Openings
    only: a closure stays a closure."""

    def __init__(self, direction: np.ndarray, target_p90: float, fps: float, window_s: float = 8.0,
                 warm_s: float = 1.0, limits: tuple[float, float] = (0.7, 2.5)) -> None:
        d = np.asarray(direction, np.float64)
        self.d, self.dd = d, float(d @ d)
        self.target, self.limits = float(target_p90), limits
        self.hist: deque[float] = deque(maxlen=max(1, int(window_s * fps)))
        self.warm = int(warm_s * fps)
        self.gain = 1.0
        self.rate = 1.0 - np.exp(-1.0 / (0.5 * fps))  # the gain's time constant: 0.5 s

    def step(self, q: np.ndarray, speech: bool) -> np.ndarray:
        a = float(q @ self.d) / self.dd  # the frame's opening (lip-gap units)
        if speech:
            self.hist.append(a)
        if self.target > 0 and len(self.hist) >= self.warm:
            p90 = float(np.percentile(self.hist, 90))
            if p90 > 0.25 * self.target:  # barely open: the model heard no speech there, no gain invents it
                want = float(np.clip(self.target / p90, *self.limits))
                self.gain += (want - self.gain) * self.rate
        if a <= 0:
            return q
        return (q + (self.gain - 1.0) * a * self.d).astype(np.float32)


class LiveEngine:
    """Feed samples (16 kHz mono float32) as they arrive; get the frames they finish.

    ``reference`` is the face (``core.reference.face_reference``); ``models`` the offline checkpoints (the PCA, the
    blink profile); ``spontaneous`` the head-motion scale, blink rate and gaze mode as offline.
    """

    def __init__(self, net: LiveNet, reference: Reference, fps: float = 30.0, models: object | None = None,
                 spontaneous: Spontaneous | None = None, seed: int = 0, shape_range: bool = False) -> None:
        from core.face.retarget import person_basis
        from core.loading import default_models
        from core.models import spontaneous as spm
        from core.models.expression import identity_feature

        m = models or default_models()
        sp = spontaneous or Spontaneous()
        sp.check()
        self.net, self.fps, self.sp = net, float(fps), sp
        self.comps = m.pca.components[: net.cfg.n_coeffs].astype(np.float32)  # type: ignore[attr-defined]
        ident = identity_feature(reference.identity, m.canonical, m.pca.components)  # type: ignore[attr-defined]
        self.ident = torch.from_numpy(ident[: net.cfg.n_coeffs].astype(np.float32))[None]
        self.basis = person_basis(reference.identity)
        self.mel = StreamingMel()
        self.norm = RunningMean(net.prior.numpy(), net.cfg.prior_frames)
        # the last normalised mel frames (at the start: silence, as in training)
        self.window = silence_rows(net.prior.numpy(), net.cfg.receptive_frames)
        self.mel_count = 0  # mel frames heard
        self.frame = 0
        rate = spm.NATURAL_BLINK_RATE if sp.blink_rate is None else sp.blink_rate
        blink = m.blink  # type: ignore[attr-defined]
        self.blinks = LiveBlinks(self.fps, blink.profile, blink.config.durations_s, rate, seed)
        self.gaze = LiveGaze(self.fps, sp.gaze, seed)
        self.brows = LiveBrows(self.fps, seed, enabled=sp.brows)
        self.recent = np.zeros(PITCH_KEEP, np.float32)  # the last samples heard, for each frame's pitch window
        self.recent_end = 0  # the stream index after recent's last sample
        self.peak = -np.inf
        self.samples = np.zeros(0, np.float32)  # audio of frames not yet written (their energy)
        self.samples_start = 0
        self.prev_closed = False
        from core.models.articulation import unit_open_dir

        ecfg = m.expression.cfg  # type: ignore[attr-defined]
        d = unit_open_dir(reference.identity, m.pca.components, m.neutral.opening,  # type: ignore[attr-defined]
                          net.cfg.n_coeffs)
        self.range = CausalRange(d, ecfg.range_level * ecfg.open_p90 if ecfg.target == "rest" else 0.0, self.fps) \
            if shape_range else None

    def _mel_index(self, frame: int) -> int:
        """The mel frame after which Ψ-live's output describes ``frame``."""
        return int(round(frame / self.fps * 100.0)) + self.net.cfg.lookahead_frames

    def feed(self, samples: np.ndarray) -> list[LiveFrame]:
        """Samples (n,) → the frames now finished (possibly none). Any block size: a long one is taken in 20 ms
        steps, as a microphone would have delivered it."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        out: list[LiveFrame] = []
        for s in range(0, len(samples), BLOCK):
            out += self._feed(samples[s : s + BLOCK])
        return out

    def _feed(self, samples: np.ndarray) -> list[LiveFrame]:
        self.samples = np.concatenate([self.samples, samples])
        self.recent = np.concatenate([self.recent, samples])[-PITCH_KEEP:]
        self.recent_end += len(samples)
        new = self.mel.feed(samples)
        if len(new):
            norm = self.norm.update(new)
            self.window = np.concatenate([self.window, norm])[-(self.net.cfg.receptive_frames + 64):]
            self.mel_count += len(new)
        ready = []
        while self._mel_index(self.frame) < self.mel_count and self._frame_end(self.frame) <= self.mel.fed:
            ready.append(self.frame)
            self.frame += 1
        return self._emit(ready) if ready else []

    def finish(self) -> list[LiveFrame]:
        """The stream ended: its last frames (T = ceil(duration × fps) in all, as offline), their look-ahead heard
        as silence."""
        from core.audio.features import frame_count

        total = frame_count(self.mel.fed / 16000, self.fps)
        out: list[LiveFrame] = []
        while self.frame < total:
            out += self._feed(np.zeros(BLOCK, np.float32))
        return [f for f in out if f.frame < total]

    def _frame_end(self, frame: int) -> int:
        return int(round((frame + 1) / self.fps * 16000))

    @torch.no_grad()
    def _emit(self, frames: list[int]) -> list[LiveFrame]:
        from core.face.retarget import solve_arkit
        from core.models.spontaneous import gaze_weights

        r = self.net.cfg.receptive_frames
        span = self.mel_count - 1 - (self._mel_index(frames[0]))  # how far back the first frame's output lies
        win = self.window[-(r + span):]
        out = self.net(torch.from_numpy(win)[None], self.ident)[0].numpy()  # output k after window row k
        rows = [len(win) - 1 - (self.mel_count - 1 - self._mel_index(f)) for f in frames]
        got = out[rows]
        q, pose = got[:, : self.net.cfg.n_coeffs], got[:, self.net.cfg.n_coeffs :] * np.float32(self.sp.head_motion)
        heard = [self._speech(f) for f in frames]
        speech = [h[0] for h in heard]
        blink = np.stack([self.blinks.step(sp) for sp in speech])
        brows = np.stack([self.brows.step(self._f0(f), e, sp) for f, (sp, e) in zip(frames, heard, strict=True)])
        if self.range is not None:
            q = np.stack([self.range.step(q[i], sp) for i, sp in enumerate(speech)])
        offsets = (q @ self.comps).reshape(len(frames), -1, 3)
        arkit = solve_arkit(offsets, blink, self.basis)
        result = []
        for i, f in enumerate(frames):
            closed = bool(blink[i].mean() > 0.5)
            eyes = self.gaze.step(pose[i], closed and not self.prev_closed)
            self.prev_closed = closed
            a = np.clip(np.maximum(arkit[i], brows[i]) + gaze_weights(eyes[None])[0], 0.0, 1.0)
            result.append(LiveFrame(f, (f + 1) / self.fps, a.astype(np.float32), pose[i].astype(np.float32),
                                    blink[i], q[i].astype(np.float32)))
        return result

    def _f0(self, frame: int) -> float:
        """The frame's pitch (Hz, 0 unvoiced): the offline pitch track's window at its centre, already heard."""
        start = int((frame + 0.5) / self.fps * 16000) - PITCH_WIN // 2 - (self.recent_end - len(self.recent))
        if start < 0 or start + PITCH_SPAN > len(self.recent):  # the stream's first frame, or a window not all heard
            return 0.0
        return float(segment_f0(self.recent[None, start : start + PITCH_SPAN])[0])

    def _speech(self, frame: int) -> tuple[bool, float]:
        """Is frame ``frame`` speech, and its log energy? The energy against the loudest recent frames (the offline
        rule's causal twin)."""
        from core.models.articulation import SILENCE_DBFS, SPEECH_RANGE_DB

        a, b = self._frame_end(frame - 1) if frame else 0, self._frame_end(frame)
        seg = self.samples[a - self.samples_start : b - self.samples_start]
        drop = max(0, b - self.samples_start)
        self.samples = self.samples[drop:]
        self.samples_start += drop
        e = float(np.log(np.mean(np.square(seg, dtype=np.float64)) + 1e-10)) if len(seg) else -23.0
        db = np.log(10.0) / 10.0
        self.peak = max(self.peak - 0.02 * db * 30.0 / self.fps, e)  # decays 0.6 dB/s… a loud talker sets the level
        return bool(e > self.peak - SPEECH_RANGE_DB * db and e > SILENCE_DBFS * db), e
