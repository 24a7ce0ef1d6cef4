"""Spontaneous motion: a head that moves like a person talking, conversational blinks, gaze, and brows on emphasis.

Φ (``core.models.motion``) learnt its head motion from GRID's readers, who sit still: its rhythm follows the voice
but its size does not fit conversation. Here Φ's curves are given a talker's statistics:

- **Head** (``style_head``): per axis, Φ's motion (drift removed) plus nods on stressed syllables (``accents``) is
  smoothed and scaled so that its spread (std) and speed (mean |velocity|) match a style — the default
  conversational one (``DEFAULT_STYLE``), or, with a reference video, that person's own (``HeadStyle.measure``). In
  pauses the head slows to stillness; a leak pulls it back to centre, so it never drifts over minutes.
- **Blinks** (``conversational_blinks``): a renewal process at a conversational rate whose hazard is higher in pauses
  and at phrase ends than mid-word; each blink has the blink model's measured closure profile and duration; the
  eyes close together, one a frame behind the other now and then.
- **Gaze** (``gaze``): fixations with saccades between them — small ones about a point near the camera, or
  anywhere nearby ("free") — often at a blink; "camera" keeps the eyes on the camera against the head's turns.
- **Brows** (``brows``): a brief inner/outer raise on pitch accents that stand out (≥ 2 semitones above the
  speaker's median); a flat voice gets none.

Everything is deterministic for a seed. Sources of the numbers are in ``core/assets/MODEL_CARD_spontaneous.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.face.arkit import INDEX

#: The default style: per-axis rotation spread (deg) and speed (deg/s), translation spread (mm) of a talker in
#: conversation — the mean over the five dev-av interview clips (measured, not fitted; see the model card).
DEFAULT_STYLE_NUMBERS = {"rot_std": (3.56, 4.85, 3.30), "rot_speed": (9.15, 9.14, 5.82), "trans_std": (8.7, 5.0, 12.6)}
#: Relative hazard of a blink starting: in a pause, within 0.4 s after a phrase ends, and mid-speech.
BLINK_HAZARD = {"pause": 1.6, "phrase_end": 3.0, "speech": 0.7}
NATURAL_BLINK_RATE = 17.0  # per minute: conversation's middle (10–25)


@dataclass(frozen=True)
class HeadStyle:
    rot_std: tuple[float, float, float]  # degrees
    rot_speed: tuple[float, float, float]  # degrees per second, mean |d angle / dt|
    trans_std: tuple[float, float, float]  # millimetres

    @classmethod
    def measure(cls, pose: np.ndarray, fps: float) -> HeadStyle:
        """A person's style from their head track (T, 6): rx, ry, rz (rad), tx, ty, tz (m)."""
        p = np.asarray(pose, np.float64)
        rot = np.degrees(p[:, :3])
        speed = np.abs(np.diff(rot, axis=0)).mean(0) * fps if len(p) > 1 else np.zeros(3)
        return cls(_t3(rot.std(0)), _t3(speed), _t3(p[:, 3:].std(0) * 1000))

    def as_dict(self) -> dict[str, list[float]]:
        return {k: [round(float(x), 3) for x in v] for k, v in asdict(self).items()}


DEFAULT_STYLE = HeadStyle(**DEFAULT_STYLE_NUMBERS)  # type: ignore[arg-type]


def take_seed(seed: int, samples: np.ndarray) -> int:
    """The random stream of one take: the user's seed mixed with the audio, so that a batch of lines with the
    default seed does not blink, glance and sway at the same moments in every line — and the same line with the
    same seed is the same take."""
    import zlib

    return int(zlib.crc32(np.asarray(samples, np.float32).tobytes(), int(seed) & 0xFFFFFFFF))


def _t3(a: np.ndarray) -> tuple[float, float, float]:
    return (float(a[0]), float(a[1]), float(a[2]))


# ------------------------------------------------------------------------------------------------
# prosody
# ------------------------------------------------------------------------------------------------
@dataclass
class Prosody:
    energy_db: np.ndarray  # (T,) frame energy, dBFS
    f0: np.ndarray  # (T,) Hz, 0 where unvoiced
    speech: np.ndarray  # (T,) bool
    accents: np.ndarray  # (K,) frame indices of stressed syllables
    strength: np.ndarray  # (K,) 0–1 prominence of each
    pitch_rise: np.ndarray  # (K,) semitones above the speaker's median F0 at each accent (0 if unvoiced)


#: An accent: prominence over this, the highest within this many seconds either side.
ACCENT_MIN, ACCENT_GAP_S = 0.35, 0.3


def raw_prominence(energy_rel: np.ndarray, semitones: np.ndarray) -> np.ndarray:
    """A frame's prominence before smoothing: its loudness over the speaker's median (natural-log power units) and
    its pitch over the speaker's median (semitones), each clipped to ±1."""
    return np.asarray(np.clip(energy_rel / 6.0, -1, 1) + np.clip(semitones / 4.0, -1, 1))


def accent_strength(prominence: np.ndarray) -> np.ndarray:
    """0–1 strength of accents of ``prominence``."""
    return np.asarray(np.clip(prominence / 1.5, 0.0, 1.0))


def prosody(samples: np.ndarray, n: int, fps: float, sr: int = 16000) -> Prosody:
    """Energy, a simple autocorrelation F0, speech activity and accents at the animation's frames."""
    from core.audio.features import frame_energy
    from core.models.articulation import speech_frames

    energy = frame_energy(samples, fps)[:n]
    energy = np.pad(energy, (0, max(0, n - len(energy))), constant_values=-90.0)
    speech = speech_frames(energy)
    f0 = pitch_track(samples, n, fps, sr) * speech
    voiced = f0 > 0
    median = float(np.median(f0[voiced])) if voiced.sum() > 5 else 0.0
    semis = np.where(voiced & (median > 0), 12 * np.log2(np.maximum(f0, 1.0) / max(median, 1.0)), 0.0)
    e = np.where(speech, energy - np.median(energy[speech]) if speech.any() else 0.0, -12.0)
    prominence = _smooth(raw_prominence(e, semis), max(1.0, 0.04 * fps))
    gap = max(1, int(round(ACCENT_GAP_S * fps)))
    peaks = [t for t in range(1, n - 1) if speech[t] and prominence[t] > ACCENT_MIN
             and prominence[t] == prominence[max(0, t - gap): t + gap + 1].max()]
    acc = np.asarray(peaks, np.int64)
    strength = accent_strength(prominence[acc]) if len(acc) else np.zeros(0)
    return Prosody(energy, f0, speech, acc, strength, semis[acc] if len(acc) else np.zeros(0))


#: The pitch track's autocorrelation window (s) and F0 range (Hz).
PITCH_WINDOW_S, PITCH_LO, PITCH_HI = 0.04, 70.0, 400.0


def pitch_span(sr: int = 16000) -> tuple[int, np.ndarray]:
    """(window, lags): samples in the autocorrelation window and the lags it reads; a frame's segment starts half a
    window before its centre and runs ``window + lags[-1] + 1`` samples."""
    return int(PITCH_WINDOW_S * sr), np.arange(int(sr / PITCH_HI), int(sr / PITCH_LO) + 1)


def pitch_track(samples: np.ndarray, n: int, fps: float, sr: int = 16000) -> np.ndarray:
    """(T,) F0 in Hz by normalised autocorrelation on 40 ms windows at each frame centre; 0 when unvoiced."""
    x = np.asarray(samples, np.float32)
    win, lags = pitch_span(sr)
    span = win + lags[-1] + 1
    if len(x) < span + 1 or n == 0:
        return np.zeros(n)
    centres = ((np.arange(n) + 0.5) / fps * sr).astype(int)
    starts = np.clip(centres - win // 2, 0, len(x) - span)
    return segment_f0(x[starts[:, None] + np.arange(span)[None]], sr)


def segment_f0(seg: np.ndarray, sr: int = 16000) -> np.ndarray:
    """(n,) F0 in Hz of segments (n, span) (``pitch_span``), 0 where unvoiced (normalised autocorrelation ≤ 0.6).
    In float32 through scipy's FFT (a third of the time numpy's float64 one took), at the shortest length that
    keeps every lag read exact."""
    from scipy import fft

    win, lags = pitch_span(sr)
    n, span = seg.shape
    seg = seg - seg.mean(1, keepdims=True)
    # a circular correlation of this length wraps nothing the lags read: for lag l and k < win, k + l < span
    size = fft.next_fast_len(span, real=True)
    corr = fft.irfft(np.conj(fft.rfft(seg[:, :win], size)) * fft.rfft(seg, size), size)[:, lags]
    cs = np.concatenate([np.zeros((n, 1), np.float32), np.cumsum(seg.astype(np.float64) ** 2, axis=1)], axis=1)
    e_a = cs[:, win] - cs[:, 0]
    e_l = cs[:, lags + win] - cs[:, lags]
    r = corr / np.sqrt(e_a[:, None] * e_l + 1e-12)
    best = np.argmax(r, axis=1)
    return np.where(r[np.arange(n), best] > 0.6, sr / lags[best], 0.0)


def _smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter1d

    return np.asarray(gaussian_filter1d(np.asarray(x, np.float64), sigma, axis=0, mode="nearest"))


# ------------------------------------------------------------------------------------------------
# head
# ------------------------------------------------------------------------------------------------
def nod_track(pr: Prosody, n: int, fps: float) -> np.ndarray:
    """(T, 3) unit-scale rotation pulses at accents: a nod (pitch down and back), a little turn and tilt."""
    out = np.zeros((n, 3))
    t = np.arange(n) / fps
    for k, s in zip(pr.accents, pr.strength, strict=True):
        dt = t - k / fps
        pulse = np.where(dt > -0.12, np.exp(-((dt - 0.05) ** 2) / (2 * 0.09**2)), 0.0) * s
        out[:, 0] += pulse  # rx: the nod
        out[:, 1] += 0.4 * pulse * (1 if k % 2 else -1)  # ry: a little turn, alternating sides
        out[:, 2] += 0.25 * pulse * (1 if (k // 2) % 2 else -1)
    return out


def leaky_integral(x: np.ndarray, leak: float, block: int = 256) -> np.ndarray:
    """y[t] = leak·y[t−1] + x[t] along axis 0, y[−1] = 0 (an IIR filter in closed form, block by block: the powers
    of ``leak`` stay far from underflow; scipy.signal's import alone costs a second of every CLI start)."""
    x = np.asarray(x, np.float64)
    y = np.empty_like(x)
    state = np.zeros(x.shape[1:])
    for s in range(0, len(x), block):
        xb = x[s : s + block]
        k = np.arange(len(xb), dtype=np.float64).reshape(-1, *([1] * (x.ndim - 1)))
        y[s : s + len(xb)] = leak**k * (leak * state + np.cumsum(xb * leak ** (-k), axis=0))
        state = y[s + len(xb) - 1]
    return y


def style_head(phi: np.ndarray, pr: Prosody, fps: float, style: HeadStyle = DEFAULT_STYLE,
               intensity: float = 1.0, seed: int = 0) -> np.ndarray:
    """Φ's head motion (T, 6) with ``style``'s spread and speed per axis, nods on accents, stillness in pauses."""
    n = len(phi)
    if n < 4 or intensity <= 0:
        return np.zeros((n, 6), np.float32)
    rng = np.random.default_rng(seed + 7919)
    rot = np.degrees(np.asarray(phi[:, :3], np.float64))
    rot = rot - _smooth(rot, 4.0 * fps)  # no drift: what Φ does slower than 4 s is left out
    rot = rot / (rot.std(0) + 1e-9)
    sway = _smooth(rng.standard_normal((n, 3)), 0.5 * fps)  # the slow sway of a person holding still
    sway /= sway.std(0) + 1e-9
    base = rot + 0.6 * sway + 1.2 * nod_track(pr, n, fps)
    # slow in pauses: the velocity is gated by speech (0.25 in silence), integrated back with a leak to centre
    gate = _smooth(np.where(pr.speech, 1.0, 0.25), 0.15 * fps)
    vel = np.diff(base, axis=0, prepend=base[:1]) * gate[:, None]
    vel[0] = 0.0
    out = leaky_integral(vel, float(np.exp(-1.0 / (3.0 * fps))))
    out -= out.mean(0)
    rot_out = _match(out, np.asarray(style.rot_std, np.float64), np.asarray(style.rot_speed, np.float64), fps)
    trans = _smooth(out[:, [1, 0, 2]], 0.2 * fps)  # translation follows the turns (a lean goes with a turn)
    trans /= trans.std(0) + 1e-9
    trans *= np.asarray(style.trans_std) / 1000.0
    res = np.concatenate([np.radians(rot_out), trans], axis=1) * intensity
    return res.astype(np.float32)


#: The smoothing widths (frames) and sharpenings ``_match`` chooses among.
_SIGMAS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
_SHARPEN = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0)


def _match(x: np.ndarray, std: np.ndarray, speed: np.ndarray, fps: float) -> np.ndarray:
    """Each column of ``x`` (T, A) smoothed and sharpened so that its speed/spread is the target's, then scaled to
    the target spread. The Gaussian is linear, so smooth(x + s·detail) = smooth(x) + s·smooth(detail): two
    filterings per width serve every sharpening and every axis."""
    want = speed / np.maximum(std, 1e-6)  # s⁻¹, per axis
    detail = x - _smooth(x, 0.25 * fps)  # what is faster than 0.25 s: added back to make a calm track livelier
    best, best_err = x.copy(), np.full(x.shape[1], np.inf)
    for sigma in _SIGMAS:
        xs, ds = (x, detail) if sigma == 0 else (_smooth(x, sigma), _smooth(detail, sigma))
        for sharpen in _SHARPEN:
            y = xs + sharpen * ds
            ratio = np.abs(np.diff(y, axis=0)).mean(0) * fps / (y.std(0) + 1e-12)
            err = np.abs(np.log(ratio / want))
            better = err < best_err
            best[:, better], best_err[better] = y[:, better], err[better]
    return (best - best.mean(0)) / (best.std(0) + 1e-12) * std


# ------------------------------------------------------------------------------------------------
# blinks
# ------------------------------------------------------------------------------------------------
def draw_blink(rng: np.random.Generator, durations: list[float], profile: np.ndarray, fps: float,
               ) -> tuple[np.ndarray, int, tuple[float, float]]:
    """One blink: its closure shape over its frames, the second eye's lag (0 or, now and then, 1 frame) and each
    eye's depth — drawn in this order from ``rng`` (offline and live blinks share it)."""
    dur = float(rng.choice(durations)) * rng.uniform(0.9, 1.1)
    length = max(3, int(round(dur * fps)))
    shape = np.interp(np.linspace(0, 1, length), np.linspace(0, 1, len(profile)), profile)
    lag = int(rng.random() < 0.3)  # now and then one eye a frame behind
    return shape, lag, (float(rng.uniform(0.95, 1.0)), float(rng.uniform(0.95, 1.0)))


def conversational_blinks(n: int, fps: float, speech: np.ndarray, profile: np.ndarray, durations: list[float],
                          rate_per_min: float = NATURAL_BLINK_RATE, seed: int = 0,
                          min_gap_s: float = 0.5) -> np.ndarray:
    """(T, 2) closure (right, left): blinks at ``rate_per_min`` on average, more in pauses and at phrase ends."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 2), np.float32)
    if n == 0 or rate_per_min <= 0:
        return out
    ends = np.zeros(n, bool)
    stops = np.where(speech[:-1] & ~speech[1:])[0] + 1
    for s in stops:
        ends[s : s + int(0.4 * fps)] = True
    hazard = np.where(ends, BLINK_HAZARD["phrase_end"], np.where(speech, BLINK_HAZARD["speech"], BLINK_HAZARD["pause"]))
    per_frame = rate_per_min / 60.0 / fps
    hazard = hazard / hazard.mean() * per_frame  # the mean rate is the asked one
    t, last = 0, -(10**9)
    while t < n:
        if t - last >= min_gap_s * fps and rng.random() < hazard[t]:
            shape, lag, gains = draw_blink(rng, durations, profile, fps)
            for eye, off in ((0, 0), (1, lag)):
                seg = slice(t + off, min(n, t + off + len(shape)))
                out[seg, eye] = np.maximum(out[seg, eye], shape[: seg.stop - seg.start] * gains[eye])
            last = t
            t += len(shape)
        else:
            t += 1
    return np.clip(out, 0.0, 1.0)


# ------------------------------------------------------------------------------------------------
# gaze and brows → ARKit weights
# ------------------------------------------------------------------------------------------------
#: The eye turn (degrees) at an eyeLook weight of 1 (Parley's head: the eyeball rotation its eyeLook keys carry).
GAZE_FULL_DEG = 25.0


def gaze(n: int, fps: float, blink: np.ndarray, pose: np.ndarray, mode: str = "free", seed: int = 0) -> np.ndarray:
    """(T, 2) eye yaw and pitch (degrees; + to the subject's left, + up) relative to the head."""
    out = np.zeros((n, 2))
    if mode == "off" or n == 0:
        return out
    rng = np.random.default_rng(seed + 104729)
    spread = (1.0, 0.7) if mode == "camera" else (6.0, 3.5)
    blink_on = np.where((blink.mean(1)[1:] > 0.5) & (blink.mean(1)[:-1] <= 0.5))[0] + 1
    t, target = 0, np.zeros(2)
    cur = np.zeros(2)
    while t < n:
        fix = max(2, int(rng.gamma(2.0, (0.45 if mode == "camera" else 0.8) * fps / 2.0)))
        nxt = t + fix
        near = blink_on[(blink_on > t) & (blink_on < t + 2 * fix)]
        if len(near) and rng.random() < 0.5:
            nxt = int(near[0])  # gaze shifts often come with a blink
        target = rng.normal(0, 1, 2) * spread
        sac = max(1, int(round(0.04 * fps)))
        end = min(n, nxt)
        out[t:end] = cur
        ramp = np.linspace(0, 1, sac + 1)[1:]
        seg = slice(end, min(n, end + sac))
        out[seg] = cur + (target - cur) * ramp[: seg.stop - seg.start, None]
        cur = target
        t = end + sac
    if mode == "camera":  # the eyes counter the head's turn and nod, so they stay on the camera
        out[:, 0] -= np.degrees(pose[:, 1])
        out[:, 1] += np.degrees(pose[:, 0])
    return np.clip(out, -GAZE_FULL_DEG, GAZE_FULL_DEG)


def gaze_weights(angles: np.ndarray) -> np.ndarray:
    """(T, 2) eye yaw/pitch (deg) → (T, 52) ARKit eyeLook weights (both eyes)."""
    w = np.zeros((len(angles), 52), np.float32)
    yaw, pitch = angles[:, 0] / GAZE_FULL_DEG, angles[:, 1] / GAZE_FULL_DEG
    left, right = np.clip(yaw, 0, 1), np.clip(-yaw, 0, 1)  # looking to the subject's left / right
    w[:, INDEX["eyeLookOutLeft"]] = left
    w[:, INDEX["eyeLookInRight"]] = left
    w[:, INDEX["eyeLookInLeft"]] = right
    w[:, INDEX["eyeLookOutRight"]] = right
    for side in ("Left", "Right"):
        w[:, INDEX[f"eyeLookUp{side}"]] = np.clip(pitch, 0, 1)
        w[:, INDEX[f"eyeLookDown{side}"]] = np.clip(-pitch, 0, 1)
    return w


#: Brow keys a raise moves, and how much of it each takes.
BROW_KEYS = {"browInnerUp": 1.0, "browOuterUpLeft": 0.6, "browOuterUpRight": 0.6}
#: An accent raises the brows only this many semitones above the speaker's median pitch, and then not always.
BROW_MIN_RISE, BROW_CHANCE, BROW_SEED = 2.0, 0.6, 15485863
#: A raise peaks this long after its accent (s) and falls with this Gaussian width (s).
BROW_PEAK_S, BROW_WIDTH_S = 0.05, 0.16


def brow_amplitude(rng: np.random.Generator, rise: float, strength: float) -> float:
    """How far an accent ``rise`` semitones over the median, of prominence ``strength``, raises the brows (0: it
    does not): small and sparse, not every accent."""
    if rise < BROW_MIN_RISE or rng.random() > BROW_CHANCE:
        return 0.0
    return float(np.clip(0.15 + 0.06 * (rise - BROW_MIN_RISE), 0.15, 0.45)) * (0.7 + 0.3 * strength)


def brows(pr: Prosody, n: int, fps: float, seed: int = 0) -> np.ndarray:
    """(T, 52) brow raises on pitch accents ≥ 2 semitones above the median; none on a flat voice."""
    rng = np.random.default_rng(seed + BROW_SEED)
    w = np.zeros((n, 52), np.float32)
    t = np.arange(n) / fps
    for k, s, rise in zip(pr.accents, pr.strength, pr.pitch_rise, strict=True):
        amp = brow_amplitude(rng, rise, s)
        if amp == 0.0:
            continue
        dt = t - k / fps
        pulse = amp * np.exp(-((dt - BROW_PEAK_S) ** 2) / (2 * BROW_WIDTH_S**2))
        for key, share in BROW_KEYS.items():
            w[:, INDEX[key]] = np.maximum(w[:, INDEX[key]], share * pulse)
    return w
