"""The spontaneous motion of ``core.models.spontaneous`` one frame at a time, from what the stream has heard.

- **Blinks** (``LiveBlinks``): the same hazards as offline — more in pauses and just after a phrase ends — decided
  from the speech heard up to the frame.
- **Gaze** (``LiveGaze``): fixations of gamma-drawn length, 40 ms saccades, shifts often at a blink; in 'camera'
  mode the eyes counter the head's turn.
- **Brows** (``LiveBrows``): raises on pitch accents as offline — the same pitch track and loudness per frame, the
  same prominence, the same choice of which accents raise the brows and how far — with the speaker's median pitch and
  loudness taken from what was heard so far, and the accent found when its prominence has peaked (highest of the
  last 0.3 s, falling in the next frame). A raise can only begin once its accent is heard: it rises over
  ``RAISE_S`` from there, where the offline raise is centred just after the accent (the lag is measured by
  ``benchmarks/bench_live.py``).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from core.face.arkit import INDEX
from core.models import spontaneous as spm


class LiveBlinks:
    """``spontaneous.conversational_blinks`` one frame at a time: the same hazards (more in pauses and just after a
    phrase ends), decided from the speech heard up to the frame."""

    def __init__(self, fps: float, profile: np.ndarray, durations: list[float], rate_per_min: float, seed: int,
                 min_gap_s: float = 0.5) -> None:
        self.fps, self.profile, self.durations = fps, np.asarray(profile, np.float64), list(durations)
        self.rng = np.random.default_rng(seed)
        # the offline hazards are rescaled so their mean is the asked rate; a talker is speaking about 70 % of the
        # time with a phrase end every ~3 s: the same normalisation with that mix
        hazard = spm.BLINK_HAZARD
        mix = 0.7 * hazard["speech"] + 0.17 * hazard["pause"] + 0.13 * hazard["phrase_end"]
        self.per = {k: v / mix * rate_per_min / 60.0 / fps for k, v in hazard.items()}
        self.min_gap = min_gap_s * fps
        self.last, self.t, self.since_stop = -(10**9), 0, 10**9
        self.was_speech = False
        self.pending: list[tuple[int, int, np.ndarray, float]] = []  # (eye, start frame, shape, gain)

    def step(self, speech: bool) -> np.ndarray:
        t = self.t
        self.since_stop = 0 if (self.was_speech and not speech) else self.since_stop + 1
        self.was_speech = speech
        kind = "phrase_end" if self.since_stop < 0.4 * self.fps else ("speech" if speech else "pause")
        if t - self.last >= self.min_gap and not self.pending and self.rng.random() < self.per[kind]:
            shape, lag, gains = spm.draw_blink(self.rng, self.durations, self.profile, self.fps)
            for eye, off in ((0, 0), (1, lag)):
                self.pending.append((eye, t + off, shape, gains[eye]))
            self.last = t
        out = np.zeros(2, np.float32)
        alive = []
        for eye, start, shape, gain in self.pending:
            k = t - start
            if 0 <= k < len(shape):
                out[eye] = max(out[eye], shape[k] * gain)
            if k < len(shape) - 1:
                alive.append((eye, start, shape, gain))
        self.pending = alive
        self.t += 1
        return np.clip(out, 0.0, 1.0)


class LiveGaze:
    """``spontaneous.gaze`` one frame at a time: fixations of gamma-drawn length, 40 ms saccades, and in 'camera'
    mode the eyes countering the head's turn."""

    def __init__(self, fps: float, mode: str, seed: int) -> None:
        self.fps, self.mode = fps, mode
        self.rng = np.random.default_rng(seed + 104729)
        self.spread = np.array((1.0, 0.7) if mode == "camera" else (6.0, 3.5))
        self.cur = np.zeros(2)
        self.target = np.zeros(2)
        self.left = 0  # frames left in this fixation
        self.sac = max(1, int(round(0.04 * fps)))
        self.k = self.sac  # saccade progress (done)

    def step(self, pose: np.ndarray, blink_start: bool) -> np.ndarray:
        if self.mode == "off":
            return np.zeros(2)
        if self.k < self.sac:  # in a saccade
            self.k += 1
            out = self.cur + (self.target - self.cur) * (self.k / self.sac)
            if self.k == self.sac:
                self.cur = self.target.copy()
        else:
            self.left -= 1
            if self.left <= 0 or (blink_start and self.rng.random() < 0.5):  # shifts often come with a blink
                self.target = self.rng.normal(0, 1, 2) * self.spread
                self.left = max(2, int(self.rng.gamma(2.0, (0.45 if self.mode == "camera" else 0.8) * self.fps / 2)))
                self.k = 0
            out = self.cur.copy()
        if self.mode == "camera":
            out = out + np.array([-np.degrees(pose[1]), np.degrees(pose[0])])
        return np.clip(out, -spm.GAZE_FULL_DEG, spm.GAZE_FULL_DEG)


class LiveBrows:
    """``spontaneous.brows`` causally: per frame, its F0 (Hz, 0 unvoiced), log energy and speech decision in; the
    brow keys' ARKit weights out."""

    #: The raise's rise (s) from the moment its accent is heard to its top; then it falls as offline.
    RAISE_S = 0.10
    #: Frames of falling prominence after a peak that confirm it.
    CONFIRM = 1

    def __init__(self, fps: float, seed: int, enabled: bool = True, memory_s: float = 30.0,
                 warm_s: float = 1.0) -> None:
        self.fps, self.enabled = float(fps), enabled
        self.rng = np.random.default_rng(seed + spm.BROW_SEED)
        self.f0s: deque[float] = deque(maxlen=int(memory_s * fps))  # voiced pitch heard (the speaker's median)
        self.energies: deque[float] = deque(maxlen=int(memory_s * fps))  # speech loudness heard
        sigma = max(1.0, 0.04 * fps)  # the offline smoothing of the prominence
        self.half = max(1, int(round(1.5 * sigma)))
        k = np.exp(-0.5 * (np.arange(-self.half, self.half + 1) / sigma) ** 2)
        self.kernel = k / k.sum()
        self.raw: deque[tuple[float, bool, float]] = deque(maxlen=2 * self.half + 1)  # (prominence, speech, semis)
        self.gap = max(1, int(round(spm.ACCENT_GAP_S * fps)))
        self.smooth: deque[tuple[int, float, bool, float]] = deque(maxlen=self.gap + self.CONFIRM + 1)
        self.last_accent = -(10**9)
        self.raises: list[tuple[int, float]] = []  # (start frame, amplitude)
        self.onsets: deque[tuple[int, int, float]] = deque(maxlen=1000)  # (accent frame, raise start, amplitude)
        self.warm = int(warm_s * fps)
        self.t = 0

    def step(self, f0: float, energy: float, speech: bool) -> np.ndarray:
        """(52,) float32: the brow keys' weights for the next frame (others 0)."""
        t = self.t
        self.t += 1
        out = np.zeros(52, np.float32)
        if not self.enabled:
            return out
        voiced = speech and f0 > 0
        if voiced:
            self.f0s.append(f0)
        if speech:
            self.energies.append(energy)
        median_f0 = float(np.median(self.f0s)) if len(self.f0s) > 5 else 0.0
        semis = 12 * np.log2(f0 / median_f0) if voiced and median_f0 > 0 else 0.0
        rel = energy - float(np.median(self.energies)) if speech else -12.0
        self.raw.append((float(spm.raw_prominence(np.array(rel), np.array(semis))), speech, float(semis)))
        if len(self.raw) == self.raw.maxlen:  # the frame ``half`` back, smoothed symmetrically as offline
            _, sp, st = self.raw[self.half]
            self.smooth.append((t - self.half, float(self.kernel @ [r[0] for r in self.raw]), sp, st))
            self._accent(t)
        alive = []
        for start, amp in self.raises:
            dt = (t - start) / self.fps
            if dt < self.RAISE_S:
                x = dt / self.RAISE_S
                v = amp * x * x * (3 - 2 * x)
            else:
                v = amp * float(np.exp(-((dt - self.RAISE_S) ** 2) / (2 * spm.BROW_WIDTH_S**2)))
            for key, share in spm.BROW_KEYS.items():
                out[INDEX[key]] = max(out[INDEX[key]], share * v)
            if dt < self.RAISE_S + 3 * spm.BROW_WIDTH_S:
                alive.append((start, amp))
        self.raises = alive
        return out

    def _accent(self, t: int) -> None:
        """Is the frame ``CONFIRM`` before the newest smoothed one an accent? Then perhaps a raise from ``t``."""
        if len(self.smooth) <= self.CONFIRM or t < self.warm:
            return
        hist = list(self.smooth)
        k, p, speech, semis = hist[-1 - self.CONFIRM]
        later = [h[1] for h in hist[-self.CONFIRM:]]
        earlier = [h[1] for h in hist[: -1 - self.CONFIRM]]
        if (speech and p > spm.ACCENT_MIN and p >= max(later) and p >= max(earlier, default=-np.inf)
                and k - self.last_accent > self.gap):
            self.last_accent = k
            amp = spm.brow_amplitude(self.rng, semis, float(spm.accent_strength(np.array(p))))
            if amp > 0:
                self.raises.append((t, amp))
                self.onsets.append((k, t, amp))
