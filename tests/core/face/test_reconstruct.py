from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from core.cli import main
from core.face.reconstruct import reconstruct
from tests.conftest import DEMO_FACE, FIXTURE_VIDEO


def test_photo_to_glb_and_obj(tmp_path: Path) -> None:
    rec = reconstruct(DEMO_FACE)
    glb = rec.face.export(tmp_path / "face.glb")
    obj = rec.face.export(tmp_path / "face.obj")
    mesh = trimesh.load(glb, force="mesh")
    assert len(mesh.vertices) == 468 and len(mesh.faces) == 852
    uv = np.asarray(mesh.visual.uv)
    assert uv.shape == (468, 2) and uv.min() >= 0 and uv.max() <= 1
    assert mesh.visual.material.baseColorTexture is not None
    assert obj.is_file() and (tmp_path / "face.mtl").is_file()
    width = mesh.vertices[:, 0].ptp()
    assert 0.10 < width < 0.20  # a face, in metres


def test_video_uses_most_frontal_frame() -> None:
    rec = reconstruct(FIXTURE_VIDEO)
    assert rec.pose.shape == (75, 6)
    angles = np.linalg.norm(rec.pose[:, :3], axis=1)
    assert angles[rec.frame_index] <= np.sort(angles)[2] + 1e-6


def test_cli_reconstruct_and_refusal(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["reconstruct", str(DEMO_FACE), "--out", str(tmp_path / "f.glb")]) == 0
    assert (tmp_path / "f.glb").stat().st_size > 10_000
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (200, 200), (120, 130, 140)).save(blank)
    assert main(["reconstruct", str(blank), "--out", str(tmp_path / "x.glb")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("parley: error:") and "blank.png" in err and "no face" in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "x.glb").exists()
