"""``parley render``: a result played by the person in a photo, as an MP4 with the sound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.cli import DEMO_FACE, main
from core.errors import ParleyError


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from tests.core.test_animate import run_animate  # the shipped models, a short voice

    d = tmp_path_factory.mktemp("render")
    import soundfile as sf

    from core.audio.decode import load_audio
    from core.cli import DEMO_AUDIO

    wav = d / "line.wav"
    sf.write(wav, load_audio(DEMO_AUDIO).samples[: 16000 * 2], 16000)
    return run_animate(wav, DEMO_FACE, fps=25.0).save(d / "r.npz"), wav


def test_render_writes_the_frames_with_the_sound(result: tuple[Path, Path], tmp_path: Path) -> None:
    import cv2

    from core.render.video import render

    seen: list[float] = []
    out = render(result[0], DEMO_FACE, tmp_path / "v.mp4", result[1], size=128, progress=seen.append)
    cap = cv2.VideoCapture(str(out))
    n, w, h = (int(cap.get(p)) for p in (cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
    ok, first = cap.read()
    assert ok and max(w, h) == 128 and abs(n - 50) <= 1 and seen[-1] == 1.0 and first.std() > 10
    import subprocess

    import imageio_ffmpeg

    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(out)], capture_output=True, text=True)
    assert "Audio: aac" in probe.stderr  # the sound is muxed in


def test_cancel_leaves_nothing_and_bad_inputs_are_refused(result: tuple[Path, Path], tmp_path: Path) -> None:
    from core.render.video import render

    class Stop(Exception):
        pass

    def stop(f: float) -> None:
        if f > 0.2:
            raise Stop

    with pytest.raises(Stop):
        render(result[0], DEMO_FACE, tmp_path / "v.mp4", result[1], size=96, progress=stop)
    assert not list(tmp_path.iterdir())  # no half file
    long = tmp_path / "long.wav"
    import soundfile as sf

    sf.write(long, np.zeros(16000 * 5, np.float32), 16000)
    with pytest.raises(ParleyError, match="other audio or at another frame rate"):
        render(result[0], DEMO_FACE, tmp_path / "v.mp4", long, size=96)
    with pytest.raises(ParleyError, match="--size 5000"):
        render(result[0], DEMO_FACE, tmp_path / "v.mp4", result[1], size=5000)
    old = tmp_path / "old.npz"
    with np.load(result[0]) as z:
        np.savez(old, **{k: z[k] for k in z.files if k != "arkit"})
    with pytest.raises(ParleyError, match="no ARKit curves"):
        render(old, DEMO_FACE, tmp_path / "v.mp4", size=96)
    with pytest.raises(ParleyError, match="no such file"):
        render(result[0], DEMO_FACE, tmp_path / "v.mp4", result[1], size=96, refiner=tmp_path / "mine.safetensors")
    from PIL import Image

    from core.errors import FaceTooSmall

    small = tmp_path / "far.png"  # the portrait far away in a big empty room
    canvas = Image.new("RGB", (1600, 1200), (90, 90, 90))
    canvas.paste(Image.open(DEMO_FACE).convert("RGB").resize((48, 60)), (800, 600))
    canvas.save(small)
    with pytest.raises((FaceTooSmall, ParleyError), match="too small|px across|no face"):
        render(result[0], small, tmp_path / "v.mp4", result[1], size=96)
    assert not (tmp_path / "v.mp4").exists()


def test_cli_render(result: tuple[Path, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["render", str(result[0]), "--face", str(DEMO_FACE), "--out", str(tmp_path / "v.mp4"),
                 "--size", "96", "--audio", str(result[1])]) == 0
    assert (tmp_path / "v.mp4").stat().st_size > 1000 and "→" in capsys.readouterr().out
    assert main(["render", str(result[0]), "--face", str(DEMO_FACE), "--out", str(tmp_path / "v.gif")]) == 2


def test_a_face_video_gives_the_refiner_its_most_open_mouth() -> None:
    from core.models.refiner import RefinerConfig, RefinerNet
    from core.render.video import stage_from
    from core.render.warp import WarpRenderer
    from tests.conftest import FIXTURE_VIDEO

    stage = stage_from(FIXTURE_VIDEO)
    assert stage.reference is not None
    rgb, arkit, pose = stage.reference
    assert rgb.shape == stage.rgb.shape and arkit.shape == (52,) and pose.shape == (6,)
    from core.face.arkit import INDEX

    assert arkit[INDEX["jawOpen"]] > stage.head.photo_arkit[INDEX["jawOpen"]]  # more open than the photo
    open_net = RefinerNet(RefinerConfig(channels=4, crop=32, reference="open")).eval()
    photo_net = RefinerNet(RefinerConfig(channels=4, crop=32, reference="photo")).eval()
    a, b = WarpRenderer(stage, 128, open_net), WarpRenderer(stage, 128, photo_net)
    assert np.abs(a.reference_crop.astype(int) - b.reference_crop.astype(int)).mean() > 1.0


def test_the_video_refiner_is_chosen_for_a_face_video_only() -> None:
    from core.render.video import REFINER, REFINER_VIDEO, refiner_for, stage_from
    from tests.conftest import FIXTURE_VIDEO

    video, photo = stage_from(FIXTURE_VIDEO), stage_from(DEMO_FACE)
    assert refiner_for(video) == REFINER_VIDEO and refiner_for(photo) is None  # a photo: the plain warp (issue 22)
    assert refiner_for(photo, "shipped") == REFINER == refiner_for(video, "shipped")
    assert refiner_for(video, "mine.safetensors") == "mine.safetensors" and refiner_for(video, None) is None


def test_a_video_keeps_every_frame_of_the_result(tmp_path: Path) -> None:
    """T = ceil(duration × fps) frames in, T frames out, with the sound muxed (it was one short: -shortest)."""
    import imageio_ffmpeg

    from core.audio.decode import load_audio
    from core.audio.features import frame_count
    from core.cli import DEMO_AUDIO
    from core.preview import encode_video

    n = frame_count(load_audio(DEMO_AUDIO).duration, 30.0)
    out = encode_video((np.full((32, 32, 3), i % 200, np.uint8) for i in range(n)), 32, 30.0, DEMO_AUDIO,
                       tmp_path / "v.mp4")
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == n


def test_a_face_videos_open_mouth_colours_the_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.face import mouth
    from core.face.geometry import mouth_aperture
    from core.render.video import stage_from
    from tests.conftest import FIXTURE_VIDEO

    calls: list[tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]] = []
    real = mouth.mouth_colours

    def spy(rgb: np.ndarray, lm: np.ndarray, open_views=()):  # type: ignore[no-untyped-def]
        calls.append((rgb, lm, list(open_views)))
        return real(rgb, lm, open_views)

    monkeypatch.setattr(mouth, "mouth_colours", spy)
    stage = stage_from(FIXTURE_VIDEO)
    assert len(calls) == 1
    photo, photo_lm, views = calls[0]
    assert np.array_equal(photo, stage.rgb) and 1 <= len(views) <= 16  # the video's most open frames were given
    assert all(not np.array_equal(rgb, photo) for rgb, _ in views)
    opening = mouth_aperture(np.stack([lm for _, lm in views]))
    assert opening.mean() > mouth_aperture(photo_lm[None])[0] + 0.05  # open mouths
    want = real(photo, photo_lm, views)
    assert want.inside_seen  # the fixture's open mouths show their inside
    assert not np.allclose(want.inside, real(photo, photo_lm).inside, atol=0.02)
    # then the warp draws those frames and matches its inside to theirs (``core.render.inside``)
    assert stage.inside_match is not None and stage.inside_match.views == len(views)


def test_the_head_made_from_a_face_video_has_the_same_inside_as_its_render_before_the_warps_match(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``reconstruct``'s head (for Blender) and the render's take the same colours from the video; the render then
    matches them to its own shading (``core.render.inside``), which Blender does not share."""
    from core.face.reconstruct import reconstruct
    from core.render import inside
    from core.render.video import stage_from
    from tests.conftest import FIXTURE_VIDEO

    monkeypatch.setattr(inside, "match_inside", lambda *a, **k: None)
    head = reconstruct(FIXTURE_VIDEO).full_head()
    colour = {m.name: m.colour for m in head.materials}["gums_tongue"]
    assert np.allclose(colour, {m.name: m.colour for m in stage_from(FIXTURE_VIDEO).head.materials}["gums_tongue"],
                       atol=0.03)
