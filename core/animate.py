"""``parley animate``: a voice clip (+ a face) → the result contract (``core.contract``).

fps, expression (T, 20), pose (T, 6), blink (T, 2), landmarks (T, 468, 3), arkit (T, 52) and meta (JSON), with
T = ceil(duration × fps) and frame t covering audio [t/fps, (t+1)/fps). Expression coefficients
are relative to the face's rest — the person with lips together and no expression, estimated from the photo or
video (``core.face.neutral``), so a smile or an open mouth in the photo never becomes the rest:
landmarks = rest + expression @ PCA components + blink displacement; the head pose is not
applied to the landmarks. ARKit weights are solved from the landmark motion through the person's fitted ICT head
(``core.face.retarget``); their names are in meta ``arkit_names``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.audio.decode import Audio
from core.contract import CONTRACT, AnimationResult
from core.loading import Models, default_models
from core.reference import Reference, face_reference
from core.shaping import apply_smoothing, shape_lips
from core.take import Spontaneous, check_take

N_POINTS = 468

#: A progress callback: (fraction 0–1, stage name). It may raise to stop the work (cancellation).
Progress = Callable[[float, str], None]


def _no_progress(fraction: float, stage: str) -> None:
    return None


def animate(
    audio_path: str | Path | Audio, face: str | Path | Reference | None = None, fps: float = 30.0,
    text: str | None = None,
    models: Models | None = None, seed: int = 0, max_seconds: float = 600.0, progress: Progress | None = None,
    articulation: float = 1.0, motion: Spontaneous | None = None, language: str = "en",
) -> AnimationResult:
    """Animate ``face`` (photo, video, a prepared Reference, or None for the built-in portrait) to ``audio_path``.

    ``audio_path`` is a file, or audio already decoded by ``core.audio.decode.load_audio``.

    ``text`` is the line's script (its ``language``: ``core.speech.lexicon.LANGUAGES``): the words the audio says
    drive the mouth at the audio's timing; words it does not say are listed in meta ``script`` and left to the audio.

    ``progress`` is called between stages (and per tracked frame of a face video) with the fraction done;
    an exception it raises propagates, which is how a caller cancels.

    Raises:
        AudioDecodeError, ImageDecodeError, FaceNotFound, FaceTooSmall, CheckpointError: as their names say.
        ParleyError: an fps outside 1–240, an articulation outside 0–2, spontaneous-motion settings out of range,
            an unknown language or a script over 20,000 characters.
    """
    from core.audio.decode import load_audio
    from core.audio.features import frame_count
    from core.face.arkit import ARKIT_NAMES
    from core.face.retarget import person_basis, reproduce, solve_arkit
    from core.models import spontaneous as spm

    sp = check_take(fps, articulation, motion)
    from core.speech.script import check_script

    text = check_script(text, language)
    report = progress or _no_progress
    m = models or default_models()
    report(0.0, "decoding audio")
    audio = audio_path if isinstance(audio_path, Audio) else load_audio(audio_path, max_seconds=max_seconds)
    report(0.1, "reconstructing the face")
    if isinstance(face, Reference):
        ref = face
    else:
        ref = face_reference(face, progress=lambda f: report(0.1 + 0.6 * f, "tracking the face video"))
    t0 = time.perf_counter()
    n = frame_count(audio.duration, fps)
    report(0.7, "audio features")
    curves = speech_curves(m, audio.samples, n, fps, ref, text, language, articulation, sp.head_motion, seed,
                           lambda f, stage: report(0.7 + 0.25 * f, stage))
    q, pose, pr, heard, take = curves.expression, curves.pose, curves.prosody, curves.heard, curves.take
    style = spm.HeadStyle(*ref.style) if ref.style is not None else spm.DEFAULT_STYLE
    comps = m.pca.components
    report(0.95, "blinks, gaze, brows and landmarks")
    rate = spm.NATURAL_BLINK_RATE if sp.blink_rate is None else sp.blink_rate
    blink = spm.conversational_blinks(n, fps, pr.speech, m.blink.profile, m.blink.config.durations_s, rate, take)
    basis = person_basis(ref.identity)
    brow = spm.brows(pr, n, fps, take) if sp.brows else np.zeros((n, 52), np.float32)
    offsets = (q @ comps[: q.shape[1]]).reshape(n, N_POINTS, 3) + reproduce(brow, basis)
    lm = m.blink.apply(ref.identity[None] + offsets, blink)
    arkit = solve_arkit(offsets, blink, basis)
    arkit = np.maximum(arkit, brow)  # the solve sees the brows too; the raise itself is kept exact
    eyes = spm.gaze(n, fps, blink, pose, sp.gaze, take)
    arkit = np.clip(arkit + spm.gaze_weights(eyes), 0.0, 1.0)
    notes = list(ref.notes)
    src = {"source": audio.source, "duration_s": audio.duration, "sample_rate": audio.source_rate,
           "channels": audio.source_channels}
    meta = {"contract": CONTRACT, "parley": "animate", "models": m.versions(), "audio": src, "face": ref.source,
            "head_style": "reference video" if ref.style else "default (a conversational talker's statistics)",
            "spontaneous": {**sp.as_dict(), "blink_rate_used": rate, "style": style.as_dict()},
            "frames": n, "seed": seed, "articulation": articulation,
            "compute_seconds": round(time.perf_counter() - t0, 4),
            "expression_basis": "relative to the face's rest (lips together, estimated from the photo or video); "
                                "landmarks = rest + expression @ PCA",
            "arkit_names": list(ARKIT_NAMES), "arkit_basis": "solved from the landmark motion through the "
            "face's fitted ICT head (bounded least squares, temporal regularisation); blinks from the blink curves",
            "notes": notes}
    if text is not None:
        meta["transcript"] = text
        if heard is not None and heard.script is not None:
            meta["script"] = heard.script
            notes += heard.notes
        else:
            notes.append("script recorded only: this Ψ hears the spectrum, not phones, and cannot read one")
    return AnimationResult(float(fps), q.astype(np.float32), pose.astype(np.float32), blink.astype(np.float32),
                           lm.astype(np.float32), meta, arkit.astype(np.float32))


@dataclass
class SpeechCurves:
    """What the voice alone decides: Ψ's coefficients after smoothing and the lip range, and the styled head pose."""

    expression: np.ndarray  # (T, 20)
    pose: np.ndarray  # (T, 6)
    prosody: Any  # core.models.spontaneous.Prosody
    heard: Any | None  # core.speech.script.Heard, when Ψ hears phones
    take: int  # the take's seed (blinks, gaze and brows draw from it)


def speech_curves(
    m: Models, samples: np.ndarray, n: int, fps: float, ref: Reference, text: str | None = None,
    language: str = "en", articulation: float = 1.0, head_motion: float = 1.0, seed: int = 0,
    progress: Progress | None = None,
) -> SpeechCurves:
    """The offline pipeline's audio → expression and head pose, the whole clip in view (what ``parley train live``
    teaches the causal model to reproduce)."""
    from core.audio.features import model_features
    from core.models import spontaneous as spm
    from core.models.expression import identity_feature, predict_with_visemes
    from core.models.motion import predict_motion
    from core.speech.script import hear

    report = progress or _no_progress
    mel = model_features(samples)
    report(0.2, "expression")
    heard = hear(m.phonetic, mel, text, language) if m.phonetic is not None else None
    ident = identity_feature(ref.identity, m.canonical, m.pca.components)
    q, vis = predict_with_visemes(m.expression, mel, n, fps, ident, None if heard is None else heard.evidence)
    q = apply_smoothing(m, q, fps)
    pr = spm.prosody(samples, n, fps)
    q = shape_lips(m, q, ref.identity, samples, fps, articulation, vis, pr.speech[: len(q)])
    report(0.6, "head motion")
    style = spm.HeadStyle(*ref.style) if ref.style is not None else spm.DEFAULT_STYLE
    take = spm.take_seed(seed, samples)  # one take per line and seed: lines never share their blink timing
    pose = spm.style_head(predict_motion(m.motion, mel, n, fps, ref.motion), pr, fps, style, head_motion, take)
    return SpeechCurves(q, pose, pr, heard, take)
