"""The textured full head of a photo, its exports and its renders."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from core.face.arkit import INDEX

REPO = Path(__file__).resolve().parents[3]
PHOTO = REPO / "core" / "assets" / "demo_face.jpg"


@lru_cache(maxsize=1)
def photo_and_landmarks() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The demo photo, its tracked landmarks (pixels), the frame in the canonical frame, and its rest."""
    from core.face.canonical import canonical_face
    from core.face.geometry import disentangle
    from core.face.media import load_image
    from core.face.neutral import rest_of
    from core.face.tracker import to_camera_frame, track_image

    rgb = load_image(PHOTO)
    obs = track_image(rgb)
    parts = disentangle(to_camera_frame(obs.landmarks)[None], canonical_face())
    return rgb, obs.landmarks, parts.expression_landmarks[0], rest_of(parts.expression_landmarks[0], canonical_face())


def test_head_has_every_part_a_photo_texture_and_arkit_keys() -> None:
    from core.face.head import textured_head

    rgb, lm, frame, rest = photo_and_landmarks()
    head = textured_head(rgb, lm, frame, rest)
    names = [m.name for m in head.materials]
    assert names[:3] == ["skin", "iris", "sclera"] and {"teeth", "gums_tongue", "eyelashes"} <= set(names)
    skin = head.materials[0].texture
    assert skin is not None and skin.shape == (1024, 2048, 3)
    face_tile, head_tile = skin[:, :1024].astype(float), skin[:, 1024:].astype(float)
    assert face_tile.std((0, 1)).min() > 6 and head_tile.std((0, 1)).max() < 1.0  # photo on the face, tone elsewhere
    assert np.allclose(head_tile.mean((0, 1)) / 255, head.materials[0].colour, atol=0.01)
    assert head.shape_keys.shape == (52, len(head.vertices), 3) and head.shape_key_names[-1] == "tongueOut"
    # metres, the person's size: eye corners ~9 cm apart like the landmarks' rest, lips together at rest
    assert 0.15 < np.ptp(head.vertices[:, 1]) < 0.45
    iris = np.asarray(head.iris_colour)
    assert iris.max() < 0.8 and head.notes == []  # a measured iris, darker than the sclera
    jaw = np.linalg.norm(head.shape_keys[INDEX["jawOpen"]], axis=1).max()
    assert 0.005 < jaw < 0.05  # metres


def test_eyes_closed_in_the_photo_get_a_default_iris_and_a_note() -> None:
    from core.face.head import DEFAULT_IRIS, iris_colour

    rgb, lm, _, _ = photo_and_landmarks()
    shut = lm.copy()
    for eye in ((33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),):
        shut[list(eye), 1] = shut[list(eye), 1].mean()  # lids together: no area between them
    assert iris_colour(rgb, shut) is not None  # the other eye still shows its iris
    shut[:, 1] = 0.0
    assert iris_colour(rgb, shut) is None and len(DEFAULT_IRIS) == 3


def test_rasteriser_covers_a_triangle_and_keeps_the_nearest() -> None:
    from core.face.raster import barycentric_of, rasterize

    tri = np.array([[[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]])
    r = rasterize(tri, 12, 12, depth=np.array([[5.0] * 3, [1.0] * 3]))
    covered = (r.triangle >= 0).sum()
    assert 40 <= covered <= 60 and set(np.unique(r.triangle)) == {-1, 1}  # half of 10², the nearer one
    assert np.allclose(r.bary[r.triangle >= 0].sum(1), 1.0, atol=1e-5)
    again = barycentric_of(tri, r.triangle)
    assert np.allclose(again.bary, r.bary, atol=1e-5)


def test_turnaround_shows_a_head_and_blinks_close_the_eyes() -> None:
    from core.face.head import textured_head
    from core.face.shade import HeadRenderer, turnaround

    rgb, lm, frame, rest = photo_and_landmarks()
    head = textured_head(rgb, lm, frame, rest)
    views = turnaround(head, 128)
    assert views.shape == (128, 384, 3)
    for k in range(3):  # each view has a head in it, on the background
        view = views[:, 128 * k : 128 * (k + 1)].astype(int)
        assert (np.abs(view - [38, 40, 46]).sum(-1) > 30).mean() > 0.2
    r = HeadRenderer(head, 256)
    w = np.zeros(52, np.float32)
    open_eyes = r.render(w)
    w[INDEX["eyeBlinkLeft"]] = w[INDEX["eyeBlinkRight"]] = 1.0
    shut = r.render(w)
    changed = np.abs(open_eyes.astype(int) - shut.astype(int)).sum(-1) > 30
    ys, xs = np.nonzero(changed)
    assert changed.sum() > 200  # the lids moved: two eyes' worth of pixels, in a band across the upper face
    assert 0.25 < ys.mean() / 256 < 0.55 and np.ptp(ys) < 0.2 * 256 and np.ptp(xs) > 0.25 * 256


def test_glb_and_obj_exports(tmp_path: Path) -> None:
    import json
    import struct

    from core.face.gltf import write_glb, write_obj
    from core.face.head import textured_head

    rgb, lm, frame, rest = photo_and_landmarks()
    head = textured_head(rgb, lm, frame, rest)
    raw = write_glb(head, tmp_path / "h.glb").read_bytes()
    doc = json.loads(raw[20 : 20 + struct.unpack_from("<I", raw, 12)[0]])
    mesh = doc["meshes"][0]
    assert mesh["extras"]["targetNames"][0] == "eyeBlinkLeft" and len(mesh["primitives"]) == 9  # 8 + the hair
    assert doc["materials"][-1]["name"] == "hair" and "baseColorTexture" in doc["materials"][-1]["pbrMetallicRoughness"]
    assert all(len(p["targets"]) == 52 for p in mesh["primitives"])
    assert "_VERTEX_ID" in mesh["primitives"][0]["attributes"]
    assert len(raw) < 12_000_000
    obj = write_obj(head, tmp_path / "h.obj")
    text = obj.read_text()
    assert text.count("\nusemtl ") == 9 and (tmp_path / "h.mtl").read_text().count("newmtl") == 9
    assert (tmp_path / "h_skin.jpg").is_file() and (tmp_path / "h_hair.jpg").is_file()
