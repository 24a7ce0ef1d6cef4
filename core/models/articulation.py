"""How far the mouth travels: Ψ's lip opening brought to a real talker's range, and the user's articulation control.

A regression network that is unsure — a voice unlike its training speakers, a noisy room — hedges toward the
average mouth: half open, never closed, never wide. Per utterance, the predicted opening (the vertical lip gap over
the rest's, ``core.face.geometry.lip_gap``) is measured over the speech frames and mapped onto what real talkers do:

    o'(t) = articulation · gain · max(o(t) − floor · P90, 0),   gain = level · open_p90 / ((1 − floor) · P90)

P90 is the prediction's 90th-percentile opening over speech, ``open_p90`` the same figure on real footage (the
training clips, stored in Ψ's checkpoint) and ``level`` how much wider than those readers a conversational talker
opens; the gain stays within 0.5–3, and a prediction that barely moves (noise, breathing) is never scaled up. The
floor is a dead zone: the last stretch of a hedged closure closes the lips.

With a phonetic Ψ its mouth classes then act directly: a confident /p b m/ closes the lips, a confident open vowel
opens them at least ``open_share`` of the range — what a voice unlike GRID's leaves ambiguous in the coefficients
is often still clear in the classes, which were learnt from 251 LibriSpeech voices.

Every change is applied along the data's own opening motion (``NeutralModel.opening``: jaw and lips together), so
only the size of each opening changes, never its timing or the shape of the mouth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.face.geometry import lip_gap

#: Frames within this many dB of the clip's loud frames (its 95th percentile of energy) count as speech…
SPEECH_RANGE_DB = 30.0
#: …and never frames quieter than this (RMS, dB full scale): room tone, breath, a hum.
SILENCE_DBFS = -55.0


@dataclass(frozen=True)
class RangeSettings:
    open_p90: float  # real talkers' 90th-percentile lip opening over speech (``lip_gap`` units)
    floor: float = 0.35  # dead zone, as a share of the prediction's own P90
    level: float = 1.0  # the range to reach, as a multiple of ``open_p90``
    max_gain: float = 3.0
    min_gain: float = 0.5
    #: a prediction whose P90 is under this share of ``open_p90`` (noise, breathing, a hum) is not scaled up:
    #: the network did not hear speech there, and no gain should invent it
    min_share: float = 0.25
    #: with Ψ's mouth classes (phonetic Ψ): a frame whose /p b m/ probability reaches ``close_at`` closes fully
    #: (less: in proportion), and one sure of an open vowel opens at least ``open_share`` × the talker range
    close_at: float = 0.35
    open_share: float = 0.8


def speech_frames(energy: np.ndarray) -> np.ndarray:
    """(T,) bool: frames whose log energy (``frame_energy``, natural log of the mean square) is within
    ``SPEECH_RANGE_DB`` of the loud frames and above ``SILENCE_DBFS``."""
    if len(energy) == 0:
        return np.zeros(0, bool)
    db = np.log(10.0) / 10.0  # natural-log units per dB of power
    return (energy > float(np.percentile(energy, 95)) - SPEECH_RANGE_DB * db) & (energy > SILENCE_DBFS * db)


def opening(landmarks: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """(T,) vertical lip gap (``lip_gap``) over the rest's."""
    return lip_gap(landmarks) - float(lip_gap(rest[None])[0])


def fit_open_p90(openings: list[np.ndarray], speech: list[np.ndarray]) -> float:
    """Median over clips of each clip's 90th-percentile opening during speech (real footage)."""
    vals = []
    for o, s in zip(openings, speech, strict=True):
        n = min(len(o), len(s))
        if s[:n].sum() >= 5:
            vals.append(float(np.percentile(o[:n][s[:n]], 90)))
    return float(np.median(vals)) if vals else 0.0


def shape_range(
    q: np.ndarray, rest: np.ndarray, components: np.ndarray, open_dir: np.ndarray, speech: np.ndarray,
    settings: RangeSettings, articulation: float = 1.0, visemes: np.ndarray | None = None, hold: int = 2,
) -> np.ndarray:
    """Coefficients (T, K) relative to ``rest`` → the same with each frame's lip opening re-sized (see module doc).

    Args:
        q: predicted coefficients.
        rest: the face's rest (468, 3).
        components: PCA directions (≥ K rows).
        open_dir: (K,) coefficients of one unit of opening (``components @ NeutralModel.opening``).
        speech: (T,) bool, the frames that set the utterance's P90.
        settings: real talkers' range and the dead zone.
        articulation: 0 (mouth still) … 1 (a real talker's range) … 2 (exaggerated).
        visemes: (T, n) mouth-class probabilities (``predict_with_visemes``), or None.
        hold: frames around speech that may stay open (about 80 ms); elsewhere — pauses, room tone — the lips
            rest closed, whatever the network made of the noise.
    """
    k = q.shape[1]
    lm = rest[None] + (q @ components[:k]).reshape(len(q), -1, 3)
    o = opening(lm, rest)
    gain = 1.0
    floor = 0.0
    n = min(len(speech), len(o))
    if settings.open_p90 > 0 and speech[:n].sum() >= 5:
        p90 = float(np.percentile(o[:n][speech[:n]], 90))
        if p90 > 1e-6:
            floor = settings.floor * p90
            if p90 >= settings.min_share * settings.open_p90:
                gain = float(np.clip(settings.level * settings.open_p90 / ((1 - settings.floor) * p90),
                                     settings.min_gain, settings.max_gain))
    if visemes is not None and settings.open_p90 > 0:
        from core.speech.phoneset import NUCLEI

        # the dead zone is for hedged closures: where the phones say a vowel is being said it does not apply, so
        # a hedged opening is sized up rather than shut (every vowel opens)
        nucleus = np.clip(visemes[: len(o)][:, list(NUCLEI)].sum(1), 0.0, 1.0)
        floor_t = floor * (1.0 - nucleus)
    else:
        floor_t = np.full(len(o), floor)
    target = gain * np.maximum(o - floor_t[: len(o)], 0.0)
    if visemes is not None and settings.open_p90 > 0:
        from core.speech.phoneset import BILABIAL, OPEN

        p = visemes[: len(o)]
        target = np.maximum(target, settings.open_share * settings.level * settings.open_p90 * p[:, OPEN])
        target = target * np.clip(1.0 - p[:, BILABIAL] / settings.close_at, 0.0, 1.0)
    near_speech = np.ones(len(o), bool)
    near_speech[:n] = np.convolve(speech[:n].astype(float), np.ones(2 * hold + 1), "same") > 0
    target = articulation * target * near_speech
    return (q + (target - o)[:, None] * open_dir[None, :k]).astype(np.float32)


def unit_open_dir(rest: np.ndarray, components: np.ndarray, opening_disp: np.ndarray, k: int) -> np.ndarray:
    """(k,) coefficients that open this face's lips by one ``lip_gap`` unit along the data's opening motion."""
    d = components[:k].astype(np.float64) @ opening_disp.astype(np.float64)
    eps = 0.02
    lm = rest[None] + (eps * d @ components[:k]).reshape(1, -1, 3)
    step = float(opening(lm.astype(np.float32), rest)[0]) / eps
    return (d / step if abs(step) > 1e-6 else d).astype(np.float32)
