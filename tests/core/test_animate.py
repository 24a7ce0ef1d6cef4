"""``animate`` with the shipped checkpoints honours the result contract at every frame rate."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.animate import animate as run_animate
from core.contract import AnimationResult, check_contract
from core.errors import AudioDecodeError, CheckpointError, ParleyError
from core.loading import load_models
from core.reference import face_reference
from tests.conftest import DEMO_FACE, FIXTURE_VIDEO


@pytest.fixture(scope="module")
def models():  # type: ignore[no-untyped-def]
    return load_models()


@pytest.fixture(scope="module")
def photo():  # type: ignore[no-untyped-def]
    return face_reference(DEMO_FACE)


@pytest.mark.parametrize("fps", [23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 60.0])
def test_contract_at_every_frame_rate(fps: float, wav_path: Path, models, photo) -> None:  # type: ignore[no-untyped-def]
    r = run_animate(wav_path, photo, fps=fps, models=models)
    check_contract(r, 2.0)
    assert r.meta["head_style"].startswith("default")


def test_mouth_moves_with_speech_and_rests_in_silence(tmp_path: Path, models, photo) -> None:  # type: ignore[no-untyped-def]
    from core.audio.decode import load_audio
    from core.cli import DEMO_AUDIO
    from core.face.geometry import mouth_aperture

    voice = load_audio(DEMO_AUDIO).samples[16000:64000]  # 3 s of real (synthetic-voice) speech
    x = np.concatenate([np.zeros(16000, np.float32), voice, np.zeros(16000, np.float32)])
    p = tmp_path / "gap.wav"
    sf.write(p, x, 16000)
    ap = mouth_aperture(run_animate(p, photo, fps=25.0, models=models).landmarks)
    silence, speech = ap[:15], ap[30:95]
    assert speech.std() > 2 * silence.std()  # the jaw moves while speaking
    assert speech.max() > silence.max()  # and opens wider than at rest


def test_video_reference_sets_the_head_style(tmp_path: Path, models) -> None:  # type: ignore[no-untyped-def]
    ref = face_reference(FIXTURE_VIDEO)
    assert ref.motion is not None
    r = run_animate(FIXTURE_VIDEO, ref, fps=25.0, models=models)
    check_contract(r, r.meta["audio"]["duration_s"])
    assert r.meta["head_style"] == "reference video"


def test_saved_npz_and_json_carry_the_same_result(tmp_path: Path, wav_path: Path, models, photo) -> None:  # type: ignore[no-untyped-def]
    r = run_animate(wav_path, photo, fps=30.0, models=models, text="hello")
    with np.load(r.save(tmp_path / "r.npz")) as z:
        assert set(z.files) == {"fps", "expression", "pose", "blink", "landmarks", "arkit", "meta"}
        np.testing.assert_array_equal(z["landmarks"], r.landmarks)
        np.testing.assert_array_equal(z["arkit"], r.arkit)
        meta = json.loads(str(z["meta"]))
    assert meta["transcript"] == "hello" and meta["audio"]["sample_rate"] == 16000
    j = json.loads(r.save(tmp_path / "r.json").read_text())
    assert np.allclose(np.asarray(j["expression"]), r.expression, atol=1e-6) and j["fps"] == 30.0
    assert np.allclose(np.asarray(j["arkit"]), r.arkit, atol=1e-6) and meta["arkit_names"][-1] == "tongueOut"
    with pytest.raises(ParleyError, match="npz or .json"):
        r.save(tmp_path / "r.txt")


def test_people_errors_are_clear(tmp_path: Path, models, photo) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(AudioDecodeError):
        run_animate(bad, photo, models=models)
    with pytest.raises(ParleyError, match="fps"):
        run_animate(bad, photo, fps=0, models=models)
    with pytest.raises(CheckpointError, match="not found"):
        load_models(tmp_path)


def test_cli_animate_writes_result_and_preview(tmp_path: Path, wav_path: Path) -> None:
    out, mp4 = tmp_path / "r.npz", tmp_path / "p.mp4"
    cmd = [str(Path(__import__("sys").executable).parent / "parley"), "animate", str(wav_path), "--fps", "24",
           "--out", str(out), "--preview", str(mp4)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    with np.load(out) as z:
        assert z["expression"].shape == (48, 20)
    import imageio_ffmpeg

    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(mp4)], capture_output=True, text=True)
    assert "Video: h264" in probe.stderr and "Audio: aac" in probe.stderr
    bad = subprocess.run([*cmd[:2], str(tmp_path / "missing.wav"), "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and "parley: error:" in bad.stderr


def test_result_type_is_the_contract() -> None:
    assert set(AnimationResult.__dataclass_fields__) == {
        "fps",
        "expression",
        "pose",
        "blink",
        "landmarks",
        "meta",
        "arkit",
    }


def test_articulation_scales_the_mouth_and_is_checked(models, photo) -> None:  # type: ignore[no-untyped-def]
    from core.audio.decode import load_audio
    from core.cli import DEMO_AUDIO
    from core.face.geometry import mouth_aperture

    audio = load_audio(DEMO_AUDIO)
    rest = float(mouth_aperture(photo.identity[None])[0])

    def p90(a: float) -> float:
        r = run_animate(audio, photo, fps=25.0, models=models, articulation=a)
        assert r.meta["articulation"] == a
        return float(np.percentile(mouth_aperture(r.landmarks) - rest, 90))

    still, normal, wide = p90(0.0), p90(1.0), p90(2.0)
    assert abs(still) < 0.005 < normal < wide
    assert 1.6 < wide / normal < 2.4
    with pytest.raises(ParleyError, match="articulation"):
        run_animate(audio, photo, models=models, articulation=2.5)


def test_an_open_mouth_photo_still_rests_and_closes(tmp_path: Path, models) -> None:  # type: ignore[no-untyped-def]
    """A photo taken mid-word: the rest has the lips together, and silence keeps them there."""
    from core.face.geometry import mouth_aperture
    from core.face.media import iter_video_frames
    from core.face.reconstruct import reconstruct
    from core.metrics.sync import LIPS_CLOSED

    rec = reconstruct(FIXTURE_VIDEO)
    k = int(np.argmax(mouth_aperture(rec.expression_landmarks)))
    assert mouth_aperture(rec.expression_landmarks[k : k + 1])[0] > 0.06  # the fixture opens its mouth there
    from PIL import Image

    frame = list(iter_video_frames(FIXTURE_VIDEO, max_frames=k + 1))[k]
    Image.fromarray(frame).save(tmp_path / "mid_word.png")
    ref = face_reference(tmp_path / "mid_word.png")
    assert mouth_aperture(ref.identity[None])[0] < LIPS_CLOSED
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, np.random.default_rng(0).normal(size=32000).astype(np.float32) * 1e-3, 16000)
    r = run_animate(quiet, ref, fps=25.0, models=models)
    assert np.median(mouth_aperture(r.landmarks)) < LIPS_CLOSED


def test_models_run_on_the_device_they_report(tmp_path: Path, wav_path: Path) -> None:
    import torch

    m = load_models(device="auto")
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert m.device == want and m.versions()["device"] == want
    assert next(m.expression.parameters()).device.type == want and m.motion.default_wb.device.type == want
    check_contract(run_animate(wav_path, face_reference(DEMO_FACE), models=m), 2.0)
    if not torch.cuda.is_available():
        with pytest.raises(ParleyError, match="sees no CUDA device"):
            load_models(device="cuda")


def test_head_blinks_gaze_brows_and_seed_controls(models, photo) -> None:  # type: ignore[no-untyped-def]
    from core.audio.decode import load_audio
    from core.cli import DEMO_AUDIO
    from core.face.arkit import ARKIT_NAMES, INDEX
    from core.metrics.motion import blinks_per_minute
    from core.take import Spontaneous

    audio = load_audio(DEMO_AUDIO)
    look = [i for i, n in enumerate(ARKIT_NAMES) if n.startswith("eyeLook")]
    still = run_animate(audio, photo, models=models, motion=Spontaneous(0.0, 0.0, "off", False))
    assert np.abs(still.pose).max() == 0 and still.blink.max() == 0 and still.arkit[:, look].max() == 0
    default = run_animate(audio, photo, models=models)
    sp = default.meta["spontaneous"]
    assert (sp["head_motion"], sp["blink_rate"], sp["gaze"], sp["brows"]) == (1.0, "natural", "free", True)
    assert np.degrees(default.pose[:, :3].std(0)).min() > 1.0  # a talker's head, not a reader's (0.3–0.6°)
    assert default.arkit[:, look].max() > 0.05 and default.blink.max() > 0.9
    lively = run_animate(audio, photo, models=models, motion=Spontaneous(2.0, 60.0, "camera", True))
    assert np.allclose(lively.pose, 2 * default.pose, atol=1e-5)
    assert blinks_per_minute(lively.blink, 30.0) > blinks_per_minute(default.blink, 30.0)
    no_brows = run_animate(audio, photo, models=models, motion=Spontaneous(brows=False))
    brow = INDEX["browInnerUp"]
    assert default.arkit[:, brow].max() > no_brows.arkit[:, brow].max() + 0.05  # the demo voice has accents
    other = run_animate(audio, photo, models=models, seed=5)
    again = run_animate(audio, photo, models=models)
    assert not np.array_equal(other.blink, default.blink) and np.array_equal(again.blink, default.blink)
    for bad, words in ((Spontaneous(head_motion=2.5), "head-motion"), (Spontaneous(blink_rate=90.0), "blink-rate"),
                       (Spontaneous(gaze="sideways"), "gaze")):
        with pytest.raises(ParleyError, match=words):
            run_animate(audio, photo, models=models, motion=bad)
    assert Spontaneous.parse_blink_rate("natural") is None and Spontaneous.parse_blink_rate("12") == 12.0
    with pytest.raises(ParleyError, match="blink-rate"):
        Spontaneous.parse_blink_rate("often")


def test_a_face_video_sets_the_head_style(tmp_path: Path, models) -> None:  # type: ignore[no-untyped-def]
    from core.models.spontaneous import HeadStyle

    ref = face_reference(FIXTURE_VIDEO)
    assert ref.style is not None
    ref.save(tmp_path / "ref.npz")
    from core.reference import Reference

    back = Reference.load(tmp_path / "ref.npz")
    assert back.style == ref.style
    r = run_animate(FIXTURE_VIDEO, back, models=models, fps=25.0)
    assert r.meta["head_style"] == "reference video"
    got, want = HeadStyle.measure(r.pose, 25.0), HeadStyle(*ref.style)
    assert all(0.8 < g / w < 1.2 for g, w in zip(got.rot_std, want.rot_std, strict=True))


def test_the_shipped_demo_reference_is_a_fresh_reconstruction_of_the_demo_face() -> None:
    from core.face.reconstruct import reconstruct
    from core.reference import DEMO_FACE, DEMO_REFERENCE, Reference, face_reference, reference_of

    shipped = Reference.load(DEMO_REFERENCE)
    fresh = reference_of(reconstruct(DEMO_FACE, head=False), DEMO_FACE)
    np.testing.assert_allclose(shipped.identity, fresh.identity, atol=1e-6)  # stale: scripts/make_demo_reference.py
    assert face_reference(None).source == str(DEMO_FACE)
