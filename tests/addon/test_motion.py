"""The add-on's bpy-free maths: result parsing, keyframe arrays, slider ranges, head-pose axes, the GLB reader."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from addon import motion as mo
from addon.cli import audio_list, outputs
from addon.glb import GLBError, read_head


def npz(**over: object) -> bytes:
    t = 12
    arrays: dict[str, object] = {"fps": np.float32(30.0), "expression": np.zeros((t, 20), np.float32),
                                 "pose": np.zeros((t, 6), np.float32), "blink": np.zeros((t, 2), np.float32),
                                 "meta": json.dumps({"audio": {"duration": 0.4}})}
    arrays.update(over)
    buf = io.BytesIO()
    np.savez(buf, **{k: v for k, v in arrays.items() if v is not None})  # type: ignore[arg-type]
    return buf.getvalue()


def test_parse_result_accepts_the_contract_and_names_what_is_wrong() -> None:
    m = mo.parse_result(npz())
    assert m.frames == 12 and m.fps == 30.0 and m.meta["audio"]["duration"] == 0.4
    bad_pose = np.zeros((12, 6), np.float32)
    bad_pose[3, 2] = np.nan
    for data, words in [(b"not a zip", "not a readable NPZ"), (npz(blink=None), "no blink array"),
                        (npz(pose=np.zeros((11, 6), np.float32)), "shapes"), (npz(pose=bad_pose), "pose curve"),
                        (npz(fps=np.float32(0)), "fps")]:
        with pytest.raises(mo.ResultError, match=words):
            mo.parse_result(data)


def test_scene_fps_and_keyframe_arrays() -> None:
    assert mo.scene_fps(30) == (30, 1.0) and mo.scene_fps(25.0) == (25, 1.0)
    for fps in (29.97, 23.976, 59.94):
        base_fps, base = mo.scene_fps(fps)
        assert base == 1.001 and abs(base_fps / base - fps) < 1e-2
    co = mo.keyframe_coords(np.array([0.5, -1.0, 2.0]))
    assert co.dtype == np.float32 and co.tolist() == [1, 0.5, 2, -1.0, 3, 2.0]


def test_slider_ranges_cover_the_data_and_the_curve_within_blenders_limits() -> None:
    ranges = np.array([[-1.0, 0.4], [-0.2, 1.0]])
    values = np.array([[-0.5, 0.3], [0.9, 1.7]])  # component 0 goes past its data max, 1 past its too
    r = mo.slider_ranges(values, ranges)
    assert (r[:, 0] <= np.minimum(ranges[:, 0], values.min(0))).all()
    assert (r[:, 1] >= np.maximum(ranges[:, 1], values.max(0))).all()
    assert r.tolist() == [[-1.0, 0.9], [-0.2, 1.7]]
    assert mo.slider_ranges(np.array([[40.0]]), np.array([[-1.0, 1.0]])).tolist() == [[-1.0, 10.0]]


def canonical_rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    """XYZ Euler in Parley's canonical frame, built independently of the add-on."""
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return z @ y @ x


def test_head_pose_in_blender_axes_is_the_canonical_rotation_seen_z_up() -> None:
    rng = np.random.default_rng(0)
    pose = np.concatenate([rng.uniform(-0.6, 0.6, (50, 3)), rng.normal(0, 0.01, (50, 3))], axis=1)
    c = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]])  # canonical (x, y, z) → Blender (x, -z, y)
    r = mo.rotation_matrices(pose)
    for t in range(50):
        assert np.allclose(r[t], c @ canonical_rotation(*pose[t, :3]) @ c.T, atol=1e-9)
    point = np.array([0.01, 0.05, 0.09])  # a canonical point moves the same either way
    _, loc = mo.object_pose(pose)
    assert np.allclose(mo.to_blender_points(canonical_rotation(*pose[7, :3]) @ point + pose[7, 3:]),
                       r[7] @ mo.to_blender_points(point) + loc[7])


def quat_matrix(q: np.ndarray) -> np.ndarray:
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def test_bone_pose_quaternions_are_continuous_and_in_the_bones_frame() -> None:
    t = np.linspace(0, 4 * np.pi, 200)
    pose = np.zeros((200, 6))
    pose[:, 1] = 3.0 * np.sin(t)  # large yaw swings cross the quaternion double cover
    pose[:, 3] = 0.02
    rest = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=float)  # a bone pointing up (+z)
    q, loc = mo.bone_pose(pose, rest)
    assert np.allclose(np.linalg.norm(q, axis=1), 1)
    assert (np.sum(q[1:] * q[:-1], axis=1) > 0).all()  # no sign flips between neighbours
    r = mo.rotation_matrices(pose)
    for k in (0, 50, 133):
        assert np.allclose(rest @ quat_matrix(q[k]) @ rest.T, r[k], atol=1e-6)
    assert np.allclose(rest @ loc[0], mo.object_pose(pose)[1][0])


def test_read_head_rebuilds_the_welded_head_its_materials_and_shape_keys(tmp_path: Path) -> None:
    from core.face.gltf import write_glb
    from core.face.head import textured_head
    from tests.core.face.test_head import photo_and_landmarks

    rgb, image_lm, frame, rest = photo_and_landmarks()
    head = textured_head(rgb, image_lm, frame, rest)
    mesh = read_head(write_glb(head, tmp_path / "h.glb").read_bytes())
    assert mesh.vertices.shape == head.vertices.shape and np.allclose(mesh.vertices, head.vertices, atol=1e-6)
    order = np.concatenate([np.where(head.material == i)[0] for i in range(len(head.materials))])  # by material
    assert mesh.triangles.tolist() == head.triangles[order].tolist()  # welded again: one vertex per head point
    assert mesh.key_names == list(head.shape_key_names) and mesh.key_deltas.shape == (52, len(head.vertices), 3)
    assert np.allclose(mesh.key_deltas, head.shape_keys, atol=1e-6)  # sparse targets scattered back in full
    assert [m.name for m in mesh.materials] == [m.name for m in head.materials] and (mesh.material >= 0).all()
    assert mesh.materials[0].image is not None and mesh.materials[0].image.startswith(b"\xff\xd8")
    assert mesh.materials[3].image is None and mesh.materials[3].name == "teeth"
    uv = head.uv[head.triangles_uv[order]]
    assert np.allclose(mesh.loop_uv[..., 0], uv[..., 0], atol=1e-6)
    assert np.allclose(mesh.loop_uv[..., 1], 1 - uv[..., 1], atol=1e-6)


def test_read_head_reads_a_single_primitive_mesh_too(tmp_path: Path) -> None:
    from core.face.mesh import TexturedFace

    rng = np.random.default_rng(1)
    verts = rng.normal(0, 0.05, (468, 3)).astype(np.float32)
    faces = np.array([[0, 1, 2], [2, 3, 4], [465, 466, 467]], np.int32)
    uv = rng.uniform(0, 1, (468, 2)).astype(np.float32)
    tex = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
    path = TexturedFace(verts, faces, uv, tex).export(tmp_path / "f.glb")
    mesh = read_head(path.read_bytes())
    assert np.allclose(mesh.vertices, verts, atol=1e-6) and mesh.triangles.tolist() == faces.tolist()
    assert mesh.key_names == [] and len(mesh.materials) == 1 and mesh.materials[0].image is not None
    for bad in (b"", b"glTF" + b"\0" * 30, b"PK\x03\x04" * 10):
        with pytest.raises(GLBError):
            read_head(bad)


def test_cli_expands_folders_and_lists_and_names_outputs(tmp_path: Path) -> None:
    for name in ("b.wav", "a.flac", "notes.md"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "lines.txt").write_text("# dialogue\na.flac\n\n/abs/c.mp3\n")
    assert audio_list([str(tmp_path)]) == [tmp_path / "a.flac", tmp_path / "b.wav"]  # the list is no audio
    assert audio_list([str(tmp_path / "lines.txt")]) == [tmp_path / "a.flac", Path("/abs/c.mp3")]
    assert outputs([Path("x/a.wav")], Path("o/a.fbx"), None) == [Path("o/a.fbx")]
    assert outputs([Path("x/a.wav"), Path("y/a.wav")], Path("o"), "blend") == [Path("o/a_0.blend"), Path("o/a_1.blend")]
    with pytest.raises(SystemExit, match="pass a folder"):
        outputs([Path("a.wav"), Path("b.wav")], Path("o/x.glb"), None)


def test_the_addons_copy_of_the_contract_is_cores() -> None:
    """The add-on reads results without core: its few facts about the contract must be core's own."""
    from addon import motion
    from core import contract

    assert motion.CONTRACT == contract.CONTRACT
    assert set(motion.REQUIRED) == set(contract.FIELDS) - contract.OPTIONAL
    for key, width in motion.WIDTHS.items():
        assert contract.FIELDS[key][0] == ("T", width), key


def test_action_names_keep_their_face_and_head_suffix() -> None:
    """Blender cuts names at 63 bytes; a long face or clip name is shortened, never the part that tells them apart."""
    assert mo.action_name("Parley_me line01", "Face") == "Parley Parley_me line01 Face"
    long = "Parley_a_very_long_character_name_for_the_hero voice_take_0042_final_final"
    face, head = mo.action_name(long, "Face"), mo.action_name(long, "Head")
    assert face.endswith("… Face") and head.endswith("… Head") and face[:-4] == head[:-4]
    assert len(face.encode()) <= 63 and len(mo.action_name("é" * 40, "Head").encode()) <= 63


def test_the_addons_copy_of_the_take_limits_is_cores() -> None:
    """One check of a take's options: the add-on's sliders and addon/cli.py accept what core and the server do."""
    from addon import limits
    from core import take

    assert limits.LIMITS == take.LIMITS
    assert limits.out_of_range("fps", 240.0) == "" and "between 1 and 240" in limits.out_of_range("fps", 241.0)
    assert limits.out_of_range("articulation", float("nan"))


def test_the_cli_expands_inputs_as_parley_batch_does(tmp_path: Path) -> None:
    """One rule for what a folder or a list holds: addon/cli.py's copy against core.batch.collect, on a tree with
    every kind of thing a folder of lines collects (previews, renders, notes, dialogue files, sub-folders)."""
    from addon import cli
    from core import batch

    assert cli.AUDIO_SUFFIXES == batch.AUDIO_SUFFIXES and cli.VIDEO_SUFFIXES == batch.VIDEO_SUFFIXES
    for name in ("line.wav", "line.mp3", "line.ogg", "line.txt", "line.mp4", "line_render.MOV", "b.FLAC",
                 "act2/c.wav", "act2/c.txt", "act2/deep/d.opus", "notes.md", "x.wma"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "list.txt").write_text("# lines\nline.wav\nact2/c.wav\nline.wav\ntake.mp4\n/abs/e.mp3\n")
    for inputs in ([tmp_path], [tmp_path / "list.txt"], [tmp_path / "act2", tmp_path / "line.mp4"],
                   [tmp_path / "act2" / "c.wav", tmp_path / "act2"]):
        assert cli.audio_list([str(i) for i in inputs]) == batch.collect(inputs), inputs
    assert tmp_path / "line.mp4" not in cli.audio_list([str(tmp_path)])
    with pytest.raises(ValueError, match="no such file"):
        cli.audio_list([str(tmp_path / "nobody")])
