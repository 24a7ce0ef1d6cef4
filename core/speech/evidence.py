"""Phone evidence: what Ψ hears when it hears phones — 50 frames a second of the 40 phone probabilities and the
frame's loudness.

From the audio, the probabilities are the phonetic encoder's posteriors. With a script, the frames of every word
the aligner found in the audio carry the aligned phone instead (``SCRIPT_CONFIDENCE`` of it, the rest the audio's
own posterior), so the mouth says the script's words at the audio's timing; everywhere else the audio's evidence
stays. Ψ is trained on both (``ExpressionConfig.text_prob``).
"""

from __future__ import annotations

import numpy as np

from core.speech.phoneset import N_PHONES, N_VISEMES, PHONE_VISEME

N_EVIDENCE = N_PHONES + 1  # posteriors + loudness
RATE = 50.0
SCRIPT_CONFIDENCE = 0.9


def loudness(mel: np.ndarray) -> np.ndarray:
    """(L,) at 50 Hz from a 100 Hz log-mel (F, M): log mean band power relative to the utterance's loud frames
    (its 95th percentile), in units of 5 nepers (≈ 22 dB), within [−3, 0.5]."""
    e = np.log(np.exp(mel.astype(np.float64)).mean(1) + 1e-10)[::2]
    if len(e) == 0:
        return e.astype(np.float32)
    return np.clip((e - np.percentile(e, 95)) / 5.0, -3.0, 0.5).astype(np.float32)


def audio_evidence(posteriors: np.ndarray, mel: np.ndarray) -> np.ndarray:
    """(L, 41): the encoder's (L, 40) posteriors and the loudness of the same frames."""
    e = loudness(mel)
    n = len(posteriors)
    if len(e) < n:
        e = np.pad(e, (0, n - len(e)), constant_values=-3.0)
    return np.concatenate([posteriors, e[:n, None]], axis=1).astype(np.float32)


def script_evidence(evidence: np.ndarray, phones: np.ndarray, matched: np.ndarray,
                    confidence: float = SCRIPT_CONFIDENCE) -> np.ndarray:
    """``evidence`` with the aligned ``phones`` (L,) written into the ``matched`` (L,) frames."""
    out = evidence.copy()
    n = min(len(out), len(phones), len(matched))
    m = np.flatnonzero(matched[:n])
    if len(m):
        post = out[m, :N_PHONES] * (1.0 - confidence)
        post[np.arange(len(m)), phones[m]] += confidence
        out[m, :N_PHONES] = post
    return out


def evidence_visemes(evidence: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(T, 11) mouth-class probabilities at frame start ``times`` (s), where Ψ samples (40 ms on)."""
    vis = np.zeros((len(evidence), N_VISEMES), np.float32)
    np.add.at(vis.T, PHONE_VISEME, evidence[:, :N_PHONES].T)
    pos = np.clip((np.asarray(times, np.float64) + 0.04) * RATE, 0, max(len(vis) - 1, 0))
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, len(vis) - 1)
    a = (pos - lo)[:, None]
    return ((1 - a) * vis[lo] + a * vis[hi]).astype(np.float32)
