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

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.audio.decode import Audio
from core.contract import CONTRACT, AnimationResult, check_contract  # noqa: F401 (check_contract: re-exported)
from core.errors import ParleyError

ASSETS = Path(__file__).resolve().parent / "assets"
DEMO_FACE = ASSETS / "demo_face.jpg"
#: The built-in portrait's Reference, precomputed (``scripts/make_demo_reference.py``): animating without a face
#: needs neither MediaPipe nor a reconstruction (a second of every CLI start).
DEMO_REFERENCE = ASSETS / "demo_reference.npz"
N_POINTS = 468

#: A progress callback: (fraction 0–1, stage name). It may raise to stop the work (cancellation).
Progress = Callable[[float, str], None]


def _no_progress(fraction: float, stage: str) -> None:
    return None


@dataclass
class Models:
    """The shipped (or given) checkpoints, loaded once per process."""

    pca: Any
    expression: Any
    motion: Any
    blink: Any
    smoother: Any | None
    neutral: Any
    canonical: np.ndarray
    smoothing: str  # "adaptive" | "gaussian:σ" | "none"
    load_seconds: float = 0.0
    device: str = "cpu"  # where the networks run
    phonetic: Any | None = None  # the phonetic encoder, when Ψ hears phones

    def versions(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pca": {"kind": "parley.landmark_pca", "n_components": int(self.pca.n_components)}}
        out["expression"] = {"kind": "parley.expression", "variant": self.expression.cfg.variant,
                             "epochs": self.expression.metrics.get("epochs")}
        out["motion"] = {"kind": "parley.head_motion", "scale_by_reference": self.motion.cfg.scale_by_reference,
                         "epochs": self.motion.metrics.get("epochs")}
        out["blink"] = {"kind": "parley.blink", "rate_per_min": round(self.blink.config.rate_per_min, 2)}
        out["smoothing"] = self.smoothing
        out["device"] = self.device
        out["neutral"] = {"kind": "parley.neutral", "n_modes": self.neutral.config.n_modes}
        out["expression"]["inputs"] = self.expression.cfg.inputs
        if self.phonetic is not None:
            out["phonetic"] = {"kind": "parley.phonetic", "steps": self.phonetic.metrics.get("steps"),
                               "sha256": self.expression.cfg.phonetic_sha}
        return out


def load_models(assets: str | Path = ASSETS, smoothing: str | None = None, device: str = "cpu") -> Models:
    """Load Ψ, Φ, the blink model, the PCA and (if shipped and chosen) the smoother; the networks on ``device``
    ("cpu", "cuda", "cuda:N", or "auto": CUDA when torch sees a GPU).

    Raises:
        CheckpointError: a missing, unreadable or wrong-kind checkpoint (named in the message).
        ParleyError: a CUDA device asked for that torch cannot see.
    """
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ParleyError(f"device {device}: this torch build sees no CUDA device (torch {torch.__version__})")
    from core.face.canonical import canonical_face
    from core.face.neutral import NeutralModel
    from core.models.blink import BlinkModel
    from core.models.expression import ExpressionNet
    from core.models.motion import HeadMotionNet
    from core.models.pca import LandmarkPCA
    from core.models.smoother import AdaptiveSmoother

    t0 = time.perf_counter()
    a = Path(assets)
    choice = smoothing or _shipped_smoothing(a)
    smoother = AdaptiveSmoother.load(a / "smoother.safetensors") if choice == "adaptive" else None
    m = Models(LandmarkPCA.load(a / "landmark_pca.safetensors"), ExpressionNet.load(a / "expression.safetensors"),
               HeadMotionNet.load(a / "motion.safetensors"), BlinkModel.load(a / "blink.safetensors"), smoother,
               NeutralModel.load(a / "neutral.safetensors"), canonical_face(), choice, device=device)
    if m.expression.hears_phones:
        m.phonetic = _load_phonetic(a, m.expression.cfg.phonetic_sha)
    for net in (m.expression, m.motion, m.smoother, m.phonetic):
        if net is not None:
            net.to(device)
    m.load_seconds = time.perf_counter() - t0
    return m


def _load_phonetic(assets: Path, sha: str) -> Any:
    """The phonetic encoder Ψ was trained on (``phonetic.safetensors``), refused if it is another one.

    Raises:
        CheckpointError: missing, unreadable, or not the encoder this Ψ was trained to hear through.
    """
    from core.errors import CheckpointError
    from core.models.checkpoint import describe_checkpoint
    from core.models.phonetic import PhoneticNet

    f = assets / "phonetic.safetensors"
    net = PhoneticNet.load(f)
    got = describe_checkpoint(f)["sha256"]
    if sha and got != sha:
        raise CheckpointError(f"{f}: Ψ (expression.safetensors) was trained on the phonetic encoder {sha}, not on "
                              f"this one ({got}): ship the two together")
    return net


def _shipped_smoothing(assets: Path) -> str:
    """The smoothing the validation comparison chose (written by the smoother's model card step)."""
    f = assets / "smoothing.json"
    if f.is_file():
        return str(json.loads(f.read_text())["choice"])
    return "none"


def apply_smoothing(m: Models, q: np.ndarray, fps: float) -> np.ndarray:
    """The chosen smoothing on (T, 20) coefficients; a Gaussian's σ is in 25 fps frames and scales with fps."""
    from core.models.smoother import gaussian_smooth, smooth_adaptive

    if m.smoothing == "adaptive" and m.smoother is not None:
        return smooth_adaptive(m.smoother, q, m.pca.components)
    if m.smoothing.startswith("gaussian:"):
        return gaussian_smooth(q, float(m.smoothing.split(":")[1]) * fps / 25.0)
    return q


def shape_lips(m: Models, q: np.ndarray, rest: np.ndarray, samples: np.ndarray, fps: float,
               articulation: float = 1.0, visemes: np.ndarray | None = None) -> np.ndarray:
    """Ψ's lip opening brought to a real talker's range, times ``articulation`` (``core.models.articulation``).

    A Ψ trained relative to the reference frame (no range measured) is only scaled by ``articulation``.
    """
    from core.audio.features import frame_energy
    from core.models.articulation import RangeSettings, shape_range, speech_frames, unit_open_dir

    cfg = m.expression.cfg
    if cfg.target != "rest" or cfg.open_p90 <= 0:
        return (q * np.float32(articulation)).astype(np.float32)
    comps = m.pca.components
    speech = speech_frames(frame_energy(samples, fps)[: len(q)])
    d = unit_open_dir(rest, comps, m.neutral.opening, q.shape[1])
    settings = RangeSettings(cfg.open_p90, cfg.closure_floor, level=cfg.range_level, close_at=cfg.close_at,
                             open_share=cfg.open_share)
    return shape_range(q, rest, comps, d, speech, settings, articulation, visemes, hold=max(1, round(0.08 * fps)))


def one_thread() -> None:
    """Run torch and numpy's BLAS on one thread in this process. The CLI, ``parley batch`` (local or on Ray) and the
    server all animate this way, so one input and seed give bit-identical results everywhere (a thread count changes
    float rounding); the models are small enough (0.05 s for 10 s of audio) that more threads would not help."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)


@lru_cache(maxsize=2)
def default_models() -> Models:
    return load_models()


@dataclass
class Reference:
    """What a face source gives the animation: identity shape and, for a video, head-motion style."""

    identity: np.ndarray  # (468, 3) the face at rest
    source: str
    motion: tuple[np.ndarray, np.ndarray, float] | None = None  # (log-mel, pose (τ, 6), fps) of a video
    notes: list[str] = field(default_factory=list)
    style: tuple[tuple[float, float, float], ...] | None = None  # a video's head style: rot std, speed, trans std

    def save(self, path: str | Path) -> Path:
        """An NPZ (no pickles) that ``Reference.load`` reads back: the face at rest and a video's head motion."""
        arrays: dict[str, Any] = {"identity": self.identity.astype(np.float32), "source": np.str_(self.source),
                                  "notes": np.str_(json.dumps(self.notes))}
        if self.motion is not None:
            arrays.update(motion_mel=self.motion[0], motion_pose=self.motion[1], motion_fps=np.float64(self.motion[2]))
        if self.style is not None:
            arrays["style"] = np.asarray(self.style, np.float64)
        np.savez(path, **arrays)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Reference:
        with np.load(path, allow_pickle=False) as z:
            motion = None
            if "motion_pose" in z.files:
                motion = (z["motion_mel"], z["motion_pose"], float(z["motion_fps"]))
            style = tuple(_t3(r) for r in z["style"]) if "style" in z.files else None
            return cls(z["identity"], str(z["source"]), motion, list(json.loads(str(z["notes"]))), style)

    @classmethod
    def from_frames(cls, landmarks: np.ndarray, source: str) -> Reference:
        """From tracked canonical-frame landmarks of one frame (468, 3) or several (T, 468, 3): the person's rest."""
        from core.face.canonical import canonical_face
        from core.face.neutral import rest_of

        return cls(rest_of(landmarks, canonical_face()), source)


def _t3(a: Any) -> tuple[float, float, float]:
    return (float(a[0]), float(a[1]), float(a[2]))


def face_reference(
    face: str | Path | None, frames: int = 50, progress: Callable[[float], None] | None = None
) -> Reference:
    """Reconstruct the face (photo or video); a video also yields its first ``frames`` of head motion and audio.

    ``progress`` gets the fraction of a video's frames tracked (see ``reconstruct``).
    """
    if face is None and DEMO_REFERENCE.is_file():
        ref = Reference.load(DEMO_REFERENCE)
        ref.source = str(DEMO_FACE)
        return ref
    from core.face.reconstruct import reconstruct

    path = Path(face) if face is not None else DEMO_FACE
    return reference_of(reconstruct(path, progress=progress, head=False), path, frames)


def reference_of(rec: Any, path: Path, frames: int = 50) -> Reference:
    """The Reference of a reconstruction (``core.face.reconstruct``) of ``path``: its rest and, for a video, the
    first ``frames`` of head motion with the audio under them."""
    from core.audio.decode import load_audio
    from core.audio.features import model_features

    ref = Reference(rec.identity, str(path))
    if rec.fps > 0 and len(rec.pose) >= 8:
        n = min(frames, len(rec.pose))
        pose = rec.pose[:n] - rec.pose[:n].mean(0)
        try:
            audio = load_audio(path, allow_silence=True).samples[: int(round(n / rec.fps * 16000))]
        except ParleyError:
            audio = np.zeros(int(round(n / rec.fps * 16000)), np.float32)
            ref.notes.append("reference video has no readable audio: its head motion is read with silence")
        ref.motion = (model_features(audio), pose.astype(np.float32), rec.fps)
        from core.models.spontaneous import HeadStyle

        st = HeadStyle.measure(rec.pose, rec.fps)  # the whole track the video gave, not only Φ's first frames
        ref.style = (st.rot_std, st.rot_speed, st.trans_std)
    return ref


GAZE_MODES = ("free", "camera", "off")


@dataclass
class Spontaneous:
    """How the head, eyes and brows move besides the mouth (the defaults are what a director would accept)."""

    head_motion: float = 1.0  # 0 still … 1 a talker's motion … 2 twice as much
    blink_rate: float | None = None  # blinks per minute; None: natural (conversational)
    gaze: str = "free"  # free: fixations and saccades; camera: eyes on the camera; off: straight ahead
    brows: bool = True  # brow raises on pitch accents

    def check(self) -> None:
        if not (0.0 <= self.head_motion <= 2.0) or not np.isfinite(self.head_motion):
            raise ParleyError(f"--head-motion {self.head_motion}: must be between 0 and 2")
        if self.blink_rate is not None and not (0.0 <= self.blink_rate <= 60.0):
            raise ParleyError(f"--blink-rate {self.blink_rate}: must be 'natural' or between 0 and 60 per minute")
        if self.gaze not in GAZE_MODES:
            raise ParleyError(f"--gaze {self.gaze}: must be one of {', '.join(GAZE_MODES)}")

    def as_dict(self) -> dict[str, Any]:
        rate = "natural" if self.blink_rate is None else self.blink_rate
        return {"head_motion": self.head_motion, "blink_rate": rate, "gaze": self.gaze, "brows": self.brows}

    @staticmethod
    def parse_blink_rate(text: str | float | None) -> float | None:
        """'natural' (or empty) → None; a number of blinks per minute otherwise."""
        if text is None or str(text).strip().lower() in ("", "natural"):
            return None
        try:
            return float(text)
        except ValueError:
            raise ParleyError(f"--blink-rate {text}: must be 'natural' or a number of blinks per minute") from None


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
    from core.audio.features import frame_count, model_features
    from core.face.arkit import ARKIT_NAMES
    from core.face.retarget import person_basis, reproduce, solve_arkit
    from core.models import spontaneous as spm
    from core.models.expression import identity_feature, predict_with_visemes
    from core.models.motion import predict_motion

    if not (1.0 <= fps <= 240.0) or not np.isfinite(fps):
        raise ParleyError(f"--fps {fps}: must be between 1 and 240")
    if not (0.0 <= articulation <= 2.0) or not np.isfinite(articulation):
        raise ParleyError(f"--articulation {articulation}: must be between 0 and 2")
    sp = motion or Spontaneous()
    sp.check()
    from core.speech.script import check_script, hear

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
    mel = model_features(audio.samples)
    comps = m.pca.components
    report(0.75, "expression")
    heard = hear(m.phonetic, mel, text, language) if m.phonetic is not None else None
    ident = identity_feature(ref.identity, m.canonical, comps)
    q, vis = predict_with_visemes(m.expression, mel, n, fps, ident, None if heard is None else heard.evidence)
    q = apply_smoothing(m, q, fps)
    q = shape_lips(m, q, ref.identity, audio.samples, fps, articulation, vis)
    report(0.85, "head motion")
    pr = spm.prosody(audio.samples, n, fps)
    style = spm.HeadStyle(*ref.style) if ref.style is not None else spm.DEFAULT_STYLE
    take = spm.take_seed(seed, audio.samples)  # one take per line and seed: lines never share their blink timing
    pose = spm.style_head(predict_motion(m.motion, mel, n, fps, ref.motion), pr, fps, style, sp.head_motion, take)
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
