"""The extension inside real Blender (the bpy 4.5 module): built zip installed and enabled, against a real server."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from core.face.arkit import ARKIT_NAMES
from tests.server.conftest import REPO, TOKEN, Live, blank_png, free_port, start_live, wav_bytes

bpy = pytest.importorskip("bpy", reason="the bpy module is installed by setup.sh")

MODULE = "bl_ext.parley_test.parley"
FACE = REPO / "core" / "assets" / "demo_face.jpg"
VOICE = REPO / "core" / "assets" / "demo_voice.flac"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    srv = start_live(tmp_path_factory.mktemp("blender_server"), "--drain-grace", "0.2")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def ext(tmp_path_factory: pytest.TempPathFactory, server: Live) -> Iterator[ModuleType]:
    """Build the zip with the project's command, install it into a scratch repository, enable it."""
    import addon_utils

    dist = tmp_path_factory.mktemp("dist")
    out = subprocess.run([sys.executable, "scripts/build_addon.py", "--out", str(dist)], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    zips = list(dist.glob("parley-*.zip"))
    assert len(zips) == 1 and "Success" in out.stdout  # Blender's validator passed
    bpy.ops.wm.read_factory_settings(use_empty=True)
    repo = bpy.context.preferences.extensions.repos.new(name="parley_test", module="parley_test",
                                                        custom_directory=str(tmp_path_factory.mktemp("ext")),
                                                        source="USER")
    assert bpy.ops.extensions.package_install_files(filepath=str(zips[0]), repo=repo.module,
                                                    enable_on_install=True) == {"FINISHED"}
    prefs = bpy.context.preferences.addons[MODULE].preferences
    prefs.server_url, prefs.token, prefs.auto_start = server.url, TOKEN, False
    module = sys.modules[MODULE]
    yield module
    module.tasks.wait(60)
    addon_utils.disable(MODULE, default_set=True)
    assert not bpy.app.timers.is_registered(module.tasks.pump)
    assert not hasattr(bpy.types.Scene, "parley")  # unregistered: a registration left behind hangs the exit


@pytest.fixture
def fresh(ext: ModuleType) -> Iterator[ModuleType]:
    """An empty scene for each test (the extension stays enabled); the threaded path is off unless asked."""
    scene = bpy.context.scene
    ext.scene.clear_scene(scene)
    scene.render.fps, scene.render.fps_base = 24, 1.0
    scene.parley.face_path, scene.parley.audio_path, scene.parley.fps = str(FACE), str(VOICE), 30.0
    scene.parley.head_target = "OBJECT"
    ext.operators.ASYNC_IN_BACKGROUND = False
    yield ext
    ext.operators.ASYNC_IN_BACKGROUND = False
    ext.tasks.wait(60)


def face_object(ext: ModuleType) -> Any:
    assert bpy.ops.parley.reconstruct() == {"FINISHED"}
    return bpy.context.active_object


def refused(op: Any, words: str, **kw: Any) -> None:
    """The operator reported an error (bpy raises it as RuntimeError) whose message says ``words``."""
    with pytest.raises(RuntimeError, match=words):
        op(**kw)


def curves(action: Any) -> list[Any]:
    """Every F-curve of an action: layered from Blender 4.4 (5.0 has no flat ``Action.fcurves``), flat before."""
    if bpy.app.version < (4, 4, 0):
        return list(action.fcurves)
    return [fc for layer in action.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves]


def fcurves_of(owner: Any) -> list[Any]:
    """The F-curves animating ``owner`` (with slotted actions, 4.4+, only its own slot's: importers share actions)."""
    ad = owner.animation_data
    if ad is None or ad.action is None:
        return []
    slot = getattr(ad, "action_slot", None)
    if slot is None:
        return curves(ad.action)
    for layer in ad.action.layers:
        for strip in layer.strips:
            bag = strip.channelbag(slot)
            if bag is not None:
                return list(bag.fcurves)
    return []


def frame_range(fcurves: list[Any]) -> tuple[float, float]:
    return min(fc.range()[0] for fc in fcurves), max(fc.range()[1] for fc in fcurves)


def finite(fcurves: list[Any]) -> bool:
    co = np.concatenate([[kp.co[1] for kp in fc.keyframe_points] for fc in fcurves])
    return bool(np.isfinite(co).all())


#: The 4.2 bpy wheel is built without audio: there every sound strip is refused, and Parley must still animate.
AUDIO = bool(bpy.app.build_options.audaspace)


def sound_strips(scene: Any) -> list[Any]:
    se = scene.sequence_editor
    if se is None:
        return []
    return list(se.strips if hasattr(se, "strips") else se.sequences)  # 4.4 renamed sequences → strips


def state() -> tuple[Any, ...]:
    """What a failed run must leave exactly as it was."""
    strips = sound_strips(bpy.context.scene)
    return (sorted(a.name for a in bpy.data.actions), sorted(o.name for o in bpy.data.objects),
            sorted(s.name for s in strips), bpy.context.scene.frame_end)


# ------------------------------------------------------------------------------------------------
def key_curve(fcurves: list[Any], key: str) -> Any:
    return next(fc for fc in fcurves if fc.data_path == f'key_blocks["{key}"].value')


def values_of(fc: Any) -> np.ndarray:
    return np.array([kp.co[1] for kp in fc.keyframe_points])


def test_reconstruct_makes_a_textured_head_with_the_arkit_keys(fresh: ModuleType) -> None:
    obj = face_object(fresh)
    keys = obj.data.shape_keys.key_blocks
    assert len(obj.data.vertices) > 25959 and len(obj.data.polygons) > 50_000  # the ICT head and the photo's hair
    assert [k.name for k in keys] == ["Basis", *ARKIT_NAMES]
    basis = np.array([v.co[:] for v in keys[0].data])
    for k in keys[1:]:
        assert (k.slider_min, k.slider_max) == (0.0, 1.0)
        moved = np.linalg.norm(np.array([v.co[:] for v in k.data]) - basis, axis=1)
        assert moved.max() > 1e-4, k.name  # every key moves the head
    mats = [m.name.split("_")[-1] for m in obj.data.materials]
    assert len(mats) == 9 and mats[0] == "skin" and {"iris", "sclera", "teeth", "eyelashes", "hair"} <= {
        m.name.removeprefix(obj.name + "_") for m in obj.data.materials}
    tex = next(n for n in obj.data.materials[0].node_tree.nodes if n.type == "TEX_IMAGE")
    assert tex.image.packed_file is not None and tuple(tex.image.size) == (2048, 1024)
    assert obj.data.uv_layers.active is not None
    used = np.zeros(len(obj.data.polygons), np.int32)
    obj.data.polygons.foreach_get("material_index", used)
    assert set(np.unique(used)) == set(range(9))  # every part has its material, the hair too
    # Blender axes, metres: the head stands along z, the nose (its front-most point) nearer the camera (−y)
    assert 0.15 < np.ptp(basis[:, 2]) < 0.45
    nose = basis[np.argmin(basis[:, 1])]
    assert abs(nose[0]) < 0.01 and nose[1] < basis[:, 1].mean() - 0.05


def test_animate_writes_keys_head_fps_range_sound_and_replaces_cleanly(fresh: ModuleType) -> None:
    obj = face_object(fresh)
    obj.location = (0.5, -1.0, 2.0)  # the animator put the face somewhere: the head moves about that place
    obj.rotation_euler = (0.0, 0.0, 0.3)
    assert bpy.ops.parley.animate() == {"FINISHED"}
    assert tuple(obj.location) == pytest.approx((0.5, -1.0, 2.0)) and obj.rotation_euler[2] == pytest.approx(0.3)
    scene = bpy.context.scene
    duration = 10.24  # demo_voice.flac
    frames = scene.frame_end
    assert scene.render.fps == 30 and scene.frame_start == 1 and abs(frames - math.ceil(duration * 30)) <= 1
    key_action = obj.data.shape_keys.animation_data.action
    head_action = obj.animation_data.action
    assert key_action.name.startswith("Parley ") and head_action.name.startswith("Parley ")
    kc, hc = curves(key_action), curves(head_action)
    assert len(kc) == 52 and len(hc) == 6 and obj.rotation_mode == "XZY"
    for fcs in (kc, hc):
        assert frame_range(fcs) == (1.0, float(frames)) and finite(fcs)
        assert all(len(fc.keyframe_points) == frames for fc in fcs)
    jaw = values_of(key_curve(kc, "jawOpen"))
    assert jaw.std() > 0.02 and 0.0 <= jaw.min() and jaw.max() <= 1.0  # the mouth moves, within the sliders
    blink = values_of(key_curve(kc, "eyeBlinkLeft"))
    assert blink.max() > 0.9 and np.median(blink) < 0.2  # blinks close the eye, and open again
    k0 = obj.data.shape_keys.key_blocks["jawOpen"]
    strips = sound_strips(scene)
    assert scene.sync_mode == "AUDIO_SYNC"
    if AUDIO:
        assert len(strips) == 1 and strips[0].type == "SOUND" and strips[0].frame_start == 1
        assert abs(strips[0].frame_final_duration - duration * 30) <= 2
    else:  # the animation is written, and the report says why there is no sound
        assert strips == [] and fresh.operators.last_message()[0] == "WARNING"
        assert "no sound strip" in fresh.operators.last_message()[1]
    scene.frame_set(40)
    assert k0.value == pytest.approx(jaw[39], abs=1e-5)
    assert {fc.data_path for fc in hc} == {"delta_location", "delta_rotation_euler"}
    moved = obj.matrix_world.translation - obj.location  # the head motion, on top of the animator's placement
    assert 0 < moved.length < 0.05 and (obj.matrix_world.translation - obj.location).length == pytest.approx(
        obj.delta_location.length, abs=1e-4)

    before = {a.name for a in bpy.data.actions}
    scene.parley.fps = 25.0
    assert bpy.ops.parley.animate() == {"FINISHED"}  # again: replaced, not stacked
    assert len(bpy.data.actions) == len(before) == 2 and len(sound_strips(scene)) == int(AUDIO)
    assert scene.render.fps == 25 and abs(scene.frame_end - math.ceil(duration * 25)) <= 1


def test_animate_into_an_armature_bone(fresh: ModuleType) -> None:
    obj = face_object(fresh)
    arm_data = bpy.data.armatures.new("Rig")
    arm = bpy.data.objects.new("Rig", arm_data)
    bpy.context.scene.collection.objects.link(arm)
    bpy.context.view_layer.objects.active = arm
    bpy.ops.object.mode_set(mode="EDIT")
    for name, head, tail in (("spine", (0, 0, 0), (0, 0, 0.5)), ("head", (0, 0, 0.5), (0, 0, 0.7))):
        b = arm_data.edit_bones.new(name)
        b.head, b.tail = head, tail
    bpy.ops.object.mode_set(mode="OBJECT")
    arm.pose.bones["spine"].keyframe_insert("location", index=0, frame=1)  # the animator's own action must survive
    user = arm.animation_data.action
    user.name = "Body walk"
    bpy.context.view_layer.objects.active = obj
    s = bpy.context.scene.parley
    s.head_target, s.armature, s.bone = "BONE", arm, "nope"
    refused(bpy.ops.parley.animate, "has no bone 'nope'")  # said before any work
    s.bone = "head"
    assert bpy.ops.parley.animate() == {"FINISHED"}
    assert arm.animation_data.action == user
    track = arm.animation_data.nla_tracks["Parley Head"]
    fcs = curves(track.strips[0].action)
    assert {fc.data_path for fc in fcs} == {'pose.bones["head"].rotation_quaternion', 'pose.bones["head"].location'}
    assert len(fcs) == 7 and finite(fcs) and frame_range(fcs)[1] == bpy.context.scene.frame_end
    assert obj.animation_data is None or obj.animation_data.action is None  # the face object itself stays put


def test_operator_returns_at_once_and_a_timer_applies_the_result(fresh: ModuleType, long_video: bytes,
                                                                  tmp_path: Path) -> None:
    obj = face_object(fresh)
    video = tmp_path / "long.mp4"
    video.write_bytes(long_video)  # a face video: the job takes seconds on the server
    obj["parley_source"] = str(video)
    obj["parley_face_id"] = ""  # no server-side face to reuse: the video is uploaded and tracked
    fresh.operators.ASYNC_IN_BACKGROUND = True
    t0 = time.perf_counter()
    assert bpy.ops.parley.animate() == {"FINISHED"}
    returned = time.perf_counter() - t0
    task = fresh.tasks.active()
    assert task is not None and returned < 0.5, returned  # the UI is not held while the server works
    assert bpy.app.timers.is_registered(fresh.tasks.pump)
    assert bpy.ops.parley.animate.poll() is False  # one job at a time
    fresh.tasks.pump()
    assert fresh.tasks.active() is task and obj.data.shape_keys.animation_data is None  # still working
    while fresh.tasks.active() is not None:
        fresh.tasks.pump()  # what the timer does on Blender's main thread
        time.sleep(0.05)
    took = time.perf_counter() - t0
    assert took > 3 * returned and task.progress > 0.9  # progress reached the panel before the result
    assert len(curves(obj.data.shape_keys.animation_data.action)) == 52
    assert fresh.operators.last_message()[0] == ("INFO" if AUDIO else "WARNING")  # 4.2 module: no sound strip


def test_cancel_and_a_killed_server_leave_the_scene_as_it_was(fresh: ModuleType, long_video: bytes,
                                                              tmp_path: Path) -> None:
    obj = face_object(fresh)
    video = tmp_path / "long.mp4"
    video.write_bytes(long_video)  # a face video takes seconds to track: time to cancel
    obj["parley_source"] = str(video)
    obj["parley_face_id"] = ""  # no server-side face to reuse: the video is uploaded and tracked
    before = state()
    fresh.operators.ASYNC_IN_BACKGROUND = True
    assert bpy.ops.parley.animate() == {"FINISHED"}
    time.sleep(0.5)
    assert bpy.ops.parley.cancel() == {"FINISHED"}
    fresh.tasks.wait(30)
    assert fresh.tasks.active() is None and state() == before
    assert fresh.operators.last_message() == ("WARNING", "Parley Animate: cancelled; the scene is unchanged")

    other = start_live(tmp_path / "doomed", token=TOKEN)
    prefs = bpy.context.preferences.addons[MODULE].preferences
    url, prefs.server_url = prefs.server_url, other.url
    try:
        assert bpy.ops.parley.animate() == {"FINISHED"}
        time.sleep(0.5)
        other.proc.kill()
        fresh.tasks.wait(30)
    finally:
        prefs.server_url = url
        other.stop()
    kind, text = fresh.operators.last_message()
    assert kind == "ERROR" and "no Parley server answers" in text and state() == before


def test_bad_inputs_are_reported_and_nothing_is_written(fresh: ModuleType, tmp_path: Path) -> None:
    obj = face_object(fresh)
    before = state()
    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"this is not audio" * 100)
    refused(bpy.ops.parley.animate, "notes.wav: not an audio .* file", audio_path=str(bad))
    assert state() == before
    refused(bpy.ops.parley.animate, "missing.wav does not exist", audio_path=str(tmp_path / "missing.wav"))
    blank = tmp_path / "wall.png"
    blank.write_bytes(blank_png())
    refused(bpy.ops.parley.reconstruct, "face_not_found", face_path=str(blank))
    assert state() == before

    prefs = bpy.context.preferences.addons[MODULE].preferences
    url, prefs.server_url = prefs.server_url, f"http://127.0.0.1:{free_port()}"
    try:
        refused(bpy.ops.parley.animate, "no Parley server answers .* Start Server")  # down, auto-start off
    finally:
        prefs.server_url = url
    assert state() == before

    plain = bpy.data.objects.new("Cube", bpy.data.meshes.new("Cube"))
    bpy.context.scene.collection.objects.link(plain)
    bpy.context.view_layer.objects.active = plain
    assert not bpy.ops.parley.animate.poll()
    assert "no ARKit-named shape keys" in fresh.face.why_not_face(plain) and fresh.face.why_not_face(obj) == ""


def test_unregister_stops_the_timer_and_drops_a_running_task(ext: ModuleType) -> None:
    """Disabling the add-on mid-task must not leave its timer running an operator that no longer exists."""
    finished: list[Any] = []
    task = ext.tasks.Task("slow", lambda report, stop: time.sleep(0.3), lambda res, err: finished.append(err))
    ext.tasks.start(task)
    assert bpy.app.timers.is_registered(ext.tasks.pump)
    ext.unregister()
    try:
        assert not bpy.app.timers.is_registered(ext.tasks.pump) and ext.tasks.active() is None
        assert task.cancelled
        time.sleep(0.5)
        assert ext.tasks.pump() is None and finished == []  # the result is never applied
    finally:
        ext.register()


@pytest.mark.skipif(not AUDIO, reason="this Blender build has no audio: it makes no sound strips")
def test_a_failed_write_keeps_the_old_sound_strip(fresh: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    obj = face_object(fresh)
    assert bpy.ops.parley.animate() == {"FINISHED"}
    before = [s.name for s in sound_strips(bpy.context.scene)]
    assert before and obj.get("parley_strip") in before
    m = fresh.workflow.animate(fresh.prefs.client(), str(VOICE), None, 30.0, None, lambda f, s: None,
                               lambda: False)

    def broken(*a: Any, **k: Any) -> Any:
        raise RuntimeError("a write that fails half-way")

    monkeypatch.setattr(fresh.scene, "_new_action", broken)
    with pytest.raises(RuntimeError):
        fresh.operators.write_safely(lambda: fresh.scene.apply(bpy.context, obj, m, str(VOICE), title="again"))
    assert [s.name for s in sound_strips(bpy.context.scene)] == before and obj["parley_strip"] == before[0]


def test_server_down_message_says_how_to_start_one(ext: ModuleType) -> None:
    client = ext.client.ParleyClient(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ext.client.ServerUnavailable, match="Start Server"):
        ext.workflow.ensure_server(client, auto_start=False, executable="")
    with pytest.raises(ext.client.ServerUnavailable, match="was not found"):
        ext.workflow.ensure_server(client, auto_start=True, executable="/nonexistent/parley")


def test_undo_takes_the_animation_back(fresh: ModuleType) -> None:
    face_object(fresh)
    bpy.ops.ed.undo_push(message="before animate")
    assert bpy.ops.parley.animate("EXEC_DEFAULT", True) == {"FINISHED"}  # with an undo step, as a button runs it
    assert any(a.name.startswith("Parley ") for a in bpy.data.actions)
    bpy.ops.ed.undo()
    assert not any(a.name.startswith("Parley ") for a in bpy.data.actions)
    obj = bpy.data.objects[0]
    assert obj.data.shape_keys.animation_data is None or obj.data.shape_keys.animation_data.action is None


def reimport(path: Path, ext: ModuleType) -> tuple[Any, Any]:
    """Import an export into an emptied scene at the same frame rate (glTF keeps seconds, not frames)."""
    ext.scene.clear_scene(bpy.context.scene)
    if path.suffix == ".fbx":
        bpy.ops.import_scene.fbx(filepath=str(path), anim_offset=0)  # time t is frame t·fps, as other tools read it
    else:
        bpy.ops.import_scene.gltf(filepath=str(path))
    meshes = [o for o in bpy.data.objects if o.type == "MESH"]
    assert len(meshes) == 1
    return meshes[0], bpy.context.scene


@pytest.mark.parametrize("suffix", [".glb", ".fbx"])
def test_exports_keep_the_animation(fresh: ModuleType, tmp_path: Path, suffix: str) -> None:
    obj = face_object(fresh)
    assert bpy.ops.parley.animate() == {"FINISHED"}
    frames = bpy.context.scene.frame_end
    jaw = values_of(key_curve(curves(obj.data.shape_keys.animation_data.action), "jawOpen"))
    bpy.context.scene.frame_set(60)
    pose60 = obj.matrix_world.copy()
    vertices = len(obj.data.vertices)  # read now: reimport empties the scene, and obj with it
    path = tmp_path / f"face{suffix}"
    op = bpy.ops.parley.export_gltf if suffix == ".glb" else bpy.ops.parley.export_fbx
    assert op(filepath=str(path)) == {"FINISHED"} and path.stat().st_size > 10_000

    got, scene = reimport(path, fresh)
    # glTF time starts at 0 s with the sound (frame 1 here); Blender's importer puts 0 s on frame 0
    shift = 1 if suffix == ".glb" else 0
    keys = got.data.shape_keys.key_blocks
    assert set(ARKIT_NAMES) <= set(keys.keys())  # the ARKit names survive as morph-target / blend-shape names
    assert any(m is not None and m.name.endswith("hair") for m in got.data.materials)  # the photo's hair too
    assert len(got.data.vertices) >= vertices  # (the importers may split seams, never drop)
    kc = [fc for fc in fcurves_of(got.data.shape_keys) if "key_blocks" in fc.data_path]
    assert len(kc) == 52 and finite(kc)
    lo, hi = frame_range(kc)
    assert lo == 1 - shift and hi == pytest.approx(frames - shift, abs=1)
    oc = fcurves_of(got)
    assert {fc.data_path.split(".")[-1] for fc in oc} >= {"location"} and finite(oc)
    lo, hi = frame_range(oc)
    assert lo == 1 - shift and hi == pytest.approx(frames - shift, abs=1)
    # the curves themselves survived (sampled from the curve: the glTF importer narrows slider ranges to the
    # values in the file's first frame, which would clamp the evaluated key)
    jaw_curve = next(fc for fc in kc if '"jawOpen"' in fc.data_path)
    for f in (10, 60, 120):
        assert jaw_curve.evaluate(f - shift) == pytest.approx(jaw[f - 1], abs=1e-3)
    if suffix == ".glb":  # the first key at 0 s, where the sound starts (frame 1 in Blender), not at 1/fps
        import json
        import struct

        raw = path.read_bytes()
        doc = json.loads(raw[20 : 20 + struct.unpack_from("<I", raw, 12)[0]])
        starts = {doc["accessors"][smp["input"]]["min"][0] for a in doc["animations"] for smp in a["samplers"]}
        assert min(starts) == pytest.approx(0.0, abs=1e-6)
    scene.frame_set(60 - shift)  # the head transform too: same rotation and position as in the scene it came from
    assert got.matrix_world.to_quaternion().rotation_difference(pose60.to_quaternion()).angle < 0.01
    assert (got.matrix_world.translation - pose60.translation).length < 1e-3


def test_cli_batch_through_the_bpy_module(server: Live, tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "one.wav").write_bytes(wav_bytes(2.0))
    (clips / "two.flac").write_bytes(VOICE.read_bytes())
    (clips / "broken.wav").write_bytes(b"RIFF nonsense")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {"PARLEY_TOKEN": TOKEN, "PATH": "/usr/bin:/bin", "TMPDIR": str(scratch)}
    cmd = [sys.executable, "addon/cli.py", "--", "--audio", str(clips), "--face", str(FACE),
           "--out", str(tmp_path / "out"), "--format", "blend", "--fps", "25", "--server", server.url,
           "--no-start"]
    r = r_batch = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert not list(scratch.glob("blender_*"))  # Blender's temporary folder does not outlive the run
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]  # one input failed
    assert "2 of 3 done" in r.stdout and "FAILED" in r.stdout and "broken.wav" in r.stdout
    made = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert made == ["one.blend", "two.blend"]  # nothing for the broken one

    single = tmp_path / "single.glb"
    r = subprocess.run([*cmd[:3], "--audio", str(VOICE), "--face", str(FACE), "--out", str(single), "--server",
                        server.url], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and single.stat().st_size > 10_000, r.stdout[-2000:] + r.stderr[-2000:]
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "out" / "two.blend"))
    scene = bpy.context.scene
    assert scene.render.fps == 25 and scene.frame_end == pytest.approx(math.ceil(10.24 * 25), abs=1)
    face = next(o for o in bpy.data.objects if o.type == "MESH")
    assert len(curves(face.data.shape_keys.animation_data.action)) == 52
    assert any(m.name.endswith("_hair") for m in face.data.materials)  # the .blend keeps the photo's hair
    assert len(sound_strips(scene)) == int(AUDIO)
    if not AUDIO:
        assert "warning: two.flac: no sound strip" in r_batch.stdout
    r = subprocess.run([*cmd[:3], "--audio", str(VOICE), "--face", str(FACE), "--out", str(tmp_path / "x.glb"),
                        "--server", f"http://127.0.0.1:{free_port()}", "--no-start"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "0 of 1 done" in r.stdout and not (tmp_path / "x.glb").exists()
    assert "no Parley server answers" in r.stdout


def test_articulation_slider_reaches_the_server(fresh: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    obj = face_object(fresh)
    settings = bpy.context.scene.parley
    prop = settings.bl_rna.properties["articulation"]
    assert (prop.hard_min, prop.hard_max, prop.default) == (0.0, 2.0, 1.0)
    sent: list[float] = []
    real = fresh.workflow.animate

    def spy(*args: Any, **kw: Any) -> Any:
        sent.append(args[7] if len(args) > 7 else kw.get("articulation", 1.0))
        return real(*args, **kw)

    monkeypatch.setattr(fresh.workflow, "animate", spy)
    settings.articulation = 0.0
    settings.head_motion, settings.natural_blinks, settings.blink_rate = 0.0, False, 0.0
    settings.gaze, settings.brows, settings.seed = "off", False, 4
    assert bpy.ops.parley.animate() == {"FINISHED"}
    kc = curves(obj.data.shape_keys.animation_data.action)
    assert values_of(key_curve(kc, "eyeBlinkLeft")).max() == 0 and values_of(key_curve(kc, "eyeLookInLeft")).max() == 0
    head = curves(obj.animation_data.action)
    assert max(np.abs(values_of(fc)).max() for fc in head) == 0  # head motion 0: the head stays
    for name in ("head_motion", "natural_blinks", "blink_rate", "gaze", "brows", "seed"):
        assert name in settings.bl_rna.properties
    settings.head_motion, settings.natural_blinks, settings.gaze, settings.brows = 1.0, True, "free", True
    still = values_of(key_curve(curves(obj.data.shape_keys.animation_data.action), "jawOpen"))
    settings.articulation = 2.0
    assert bpy.ops.parley.animate() == {"FINISHED"}
    wide = values_of(key_curve(curves(obj.data.shape_keys.animation_data.action), "jawOpen"))
    assert sent == [0.0, 2.0] and wide.std() > still.std()


def test_the_script_and_its_language_reach_the_server(fresh: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Voice box's Script (or a Script Text block, which wins) and Language go with the animation."""
    face_object(fresh)
    settings = bpy.context.scene.parley
    assert {"transcript", "script_text", "language"} <= set(settings.bl_rna.properties.keys())
    sent: list[tuple[Any, Any]] = []
    real = fresh.workflow.animate

    def spy(*args: Any, **kw: Any) -> Any:
        sent.append((args[4], kw.get("language", args[10] if len(args) > 10 else "en")))
        return real(*args, **kw)

    monkeypatch.setattr(fresh.workflow, "animate", spy)
    settings.transcript, settings.language = "Hello there, my name is Parley.", "en"
    assert bpy.ops.parley.animate() == {"FINISHED"}
    block = bpy.data.texts.new("line 12")
    block.write("Bonjour papa.")
    settings.script_text, settings.language = block, "fr"
    assert bpy.ops.parley.animate() == {"FINISHED"}
    assert sent == [("Hello there, my name is Parley.", "en"), ("Bonjour papa.", "fr")]
    settings.script_text, settings.transcript = None, ""


@pytest.mark.parametrize(("extra", "words"), [
    (["--out", "x.abc"], "--out x.abc: must end in .glb, .fbx, .blend, or be a folder"),
    (["--out", "x.glb", "--text", "a", "--text-file", "line.txt"], "--text and --text-file: give one of them"),
    (["--out", "x.glb", "--fps", "0"], "--fps 0: must be between 1 and 240"),
    (["--out", "x.glb", "--face", "nobody.jpg"], "--face nobody.jpg: no such file"),
    (["--out", "x.glb", "--articulation", "3"], "--articulation 3: must be between 0 and 2"),
    (["--out", "x.glb", "--head-motion", "3"], "--head-motion 3: must be between 0 and 2"),
    (["--out", "x.glb", "--blink-rate", "often"], "--blink-rate often: must be 'natural' or between 0 and 60"),
    (["--out", "x.glb", "--rig", "hero.blend"], "--rig hero.blend: must be an existing .blend file"),
    (["--out", "x.glb", "--object", "Face"], "--object and --bone go with --rig"),
])
def test_cli_arguments_are_checked_before_a_server_starts(tmp_path: Path, extra: list[str], words: str) -> None:
    args = ["--audio", str(VOICE), "--face", str(FACE), *extra]
    if "--face" in extra:
        args = ["--audio", str(VOICE), *extra]
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "addon/cli.py", "--", *args, "--server", f"http://127.0.0.1:{free_port()}"],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and words in r.stderr, r.stdout + r.stderr
    assert time.perf_counter() - t0 < 10 and not (REPO / "x.abc").exists()  # no server was started, nothing made


def user_rig(with_action: bool = True) -> tuple[Any, Any]:
    """A character as animators make them: a mesh with some ARKit keys spelt their own way, one key of its own,
    parented to an armature with a head bone, and a facial action of theirs on the keys."""
    mesh = bpy.data.meshes.new("Body")
    mesh.from_pydata([(0, 0, 0), (0.1, 0, 0), (0, 0, 0.1), (0.1, 0, 0.1)], [], [(0, 1, 3, 2)])
    obj = bpy.data.objects.new("Body", mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis")
    for name in ("JawOpen", "eyeBlink_L", "eyeBlink_R", "mouthClose", "Frown_Custom"):
        kb = obj.shape_key_add(name=name)
        kb.data[0].co.z += 0.01
    obj.data.shape_keys.key_blocks["Frown_Custom"].slider_max = 3.0
    if with_action:
        obj.data.shape_keys.key_blocks["Frown_Custom"].keyframe_insert("value", frame=1)
        obj.data.shape_keys.animation_data.action.name = "Their take"
    arm = bpy.data.objects.new("Rig", bpy.data.armatures.new("Rig"))
    bpy.context.scene.collection.objects.link(arm)
    bpy.context.view_layer.objects.active = arm
    bpy.ops.object.mode_set(mode="EDIT")
    for name, head, tail in (("spine", (0, 0, 0), (0, 0, 0.5)), ("Head", (0, 0, 0.5), (0, 0, 0.7))):
        b = arm.data.edit_bones.new(name)
        b.head, b.tail = head, tail
    bpy.ops.object.mode_set(mode="OBJECT")
    obj.parent = arm
    bpy.context.view_layer.objects.active = obj
    return obj, arm


def test_any_arkit_rig_gets_the_curves_it_names_and_nothing_else(fresh: ModuleType) -> None:
    obj, arm = user_rig()
    assert fresh.face.why_not_face(obj) == "" and bpy.ops.parley.animate.poll()
    s = bpy.context.scene.parley
    s.head_target, s.armature, s.bone = "BONE", arm, "Head"
    assert bpy.ops.parley.animate() == {"FINISHED"}
    kind, text = fresh.operators.last_message()
    assert kind == "WARNING" and "lacks 48 of the ARKit shapes" in text and "eyeLookDownLeft" in text
    key = obj.data.shape_keys
    assert key.animation_data.action.name == "Their take"  # the animator's take stays active …
    track = key.animation_data.nla_tracks["Parley Face"]  # … Parley's is a track of its own
    fcs = curves(track.strips[0].action)
    assert sorted(fc.data_path for fc in fcs) == sorted(f'key_blocks["{k}"].value' for k in
                                                        ("JawOpen", "eyeBlink_L", "eyeBlink_R", "mouthClose"))
    assert values_of(key_curve(fcs, "JawOpen")).std() > 0.02 and finite(fcs)
    assert key.key_blocks["Frown_Custom"].slider_max == 3.0  # untouched
    head = curves(arm.animation_data.action)
    assert {fc.data_path for fc in head} == {'pose.bones["Head"].rotation_quaternion', 'pose.bones["Head"].location'}
    assert obj.animation_data is None or obj.animation_data.action is None  # the body itself does not move

    s.head_target = "OBJECT"  # no bone: the character is not moved, and the report says how to move the head
    assert bpy.ops.parley.animate() == {"FINISHED"}
    assert "no head motion" in fresh.operators.last_message()[1]
    assert obj.animation_data is None or obj.animation_data.action is None


def test_cli_drives_a_rig_in_a_blend(fresh: ModuleType, server: Live, tmp_path: Path) -> None:
    user_rig(with_action=False)
    rig = tmp_path / "character.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(rig), copy=True)
    env = {"PARLEY_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"}
    base = [sys.executable, "addon/cli.py", "--", "--audio", str(VOICE), "--rig", str(rig), "--server", server.url,
            "--no-start"]
    r = subprocess.run([*base, "--object", "Nobody", "--out", str(tmp_path / "x.fbx")], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "has no object 'Nobody'" in r.stderr and "Body" in r.stderr, r.stderr
    r = subprocess.run([*base, "--object", "Body", "--bone", "Neck", "--out", str(tmp_path / "x.fbx")], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no bone 'Neck'" in r.stderr
    for out in (tmp_path / "out.blend", tmp_path / "out.fbx"):
        r = subprocess.run([*base, "--object", "Body", "--bone", "Head", "--out", str(out)], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        assert "4 shape keys of 'Body' driven" in r.stdout and "lacks 48 of the ARKit shapes" in r.stdout
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "out.blend"))
    body = bpy.data.objects["Body"]
    fcs = curves(body.data.shape_keys.animation_data.action)
    assert len(fcs) == 4 and values_of(key_curve(fcs, "JawOpen")).std() > 0.02
    assert len(curves(bpy.data.objects["Rig"].animation_data.action)) == 7
    assert bpy.data.filepath != str(rig)  # the rig's own file is opened, never written
    fresh.scene.clear_scene(bpy.context.scene)
    bpy.ops.import_scene.fbx(filepath=str(tmp_path / "out.fbx"))
    got = next(o for o in bpy.data.objects if o.type == "MESH")
    assert {"JawOpen", "eyeBlink_L", "eyeBlink_R", "mouthClose"} <= set(got.data.shape_keys.key_blocks.keys())


def test_render_photoreal_writes_the_video_beside_the_blend_or_says_why_not(fresh: ModuleType,
                                                                           tmp_path: Path) -> None:
    obj = face_object(fresh)
    assert bpy.ops.parley.render_photoreal.poll() is False  # nothing to render before Animate
    audio = tmp_path / "line.wav"
    audio.write_bytes(wav_bytes(1.2))
    scene = bpy.context.scene
    scene.parley.audio_path, scene.parley.render_size = str(audio), 128
    assert bpy.ops.parley.animate() == {"FINISHED"}
    assert bpy.ops.parley.render_photoreal.poll() is True
    scene.parley.render_dir = ""
    ops = fresh.operators
    assert ops.render_path("Face", "/clips/line.wav", "", "") == ""  # an unsaved file and no folder: nowhere
    assert ops.render_path("Face", "/clips/line.wav", str(tmp_path), "/a.blend") == str(tmp_path / "Face_line.mp4")
    if not bpy.data.filepath:  # (an earlier test may have saved this session's file)
        refused(bpy.ops.parley.render_photoreal, "save the .blend first")
    blend = tmp_path / "shot" / "shot.blend"
    blend.parent.mkdir()
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    fresh.operators.ASYNC_IN_BACKGROUND = True  # the UI stays free while the server renders
    t0 = time.perf_counter()
    assert bpy.ops.parley.render_photoreal() == {"FINISHED"}
    assert time.perf_counter() - t0 < 0.5 and fresh.tasks.active() is not None
    while fresh.tasks.active() is not None:
        fresh.tasks.pump()
        time.sleep(0.05)
    out = blend.parent / f"{obj.name}_line.mp4"
    kind, text = fresh.operators.last_message()
    assert kind == "INFO" and str(out) in text and out.stat().st_size > 1000
    assert not list(blend.parent.glob("*.part"))
    import cv2  # the video has the animation's frames (1.2 s at 30 fps) and its sound
    import imageio_ffmpeg

    cap = cv2.VideoCapture(str(out))
    n, w, h = (int(cap.get(p)) for p in (cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    assert max(w, h) == 128 and abs(n - 36) <= 1
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(out)], capture_output=True, text=True)
    assert "Audio: aac" in probe.stderr

    fresh.operators.ASYNC_IN_BACKGROUND = False
    obj["parley_job"] = "0" * 32  # the server forgot the animation (restarted, expired)
    refused(bpy.ops.parley.render_photoreal, "press Animate again")


def test_cli_writes_a_result_as_it_is_without_a_server(fresh: ModuleType, tmp_path: Path) -> None:
    """``--result R --head H``: the reviewed curves are the curves written — no server, nothing re-animated."""
    import soundfile as sf

    from core.animate import animate
    from core.face.gltf import write_glb
    from core.face.reconstruct import reconstruct
    from tests.conftest import speechlike

    wav = tmp_path / "line.wav"
    sf.write(wav, speechlike(1.0, seed=2), 16000)
    res = animate(wav, None, fps=12.0, seed=3)
    npz = res.save(tmp_path / "line.npz")
    head = write_glb(reconstruct(FACE).full_head(), tmp_path / "head.glb")
    env = {"PATH": "/usr/bin:/bin", "PARLEY_URL": "http://127.0.0.1:9"}  # no server answers there
    base = [sys.executable, "addon/cli.py", "--", "--result", str(npz), "--head", str(head), "--audio", str(wav)]
    r = subprocess.run([*base, "--out", str(tmp_path / "take.blend")], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    r = subprocess.run([*base[:5], "--head", str(npz), "--out", str(tmp_path / "bad.fbx")], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=120)  # the result given as the head
    assert r.returncode == 2 and "--head" in r.stderr and "must be the .glb" in r.stderr
    assert not (tmp_path / "bad.fbx").exists()
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "take.blend"))
    obj = next(o for o in bpy.data.objects if o.type == "MESH")
    fcs = curves(obj.data.shape_keys.animation_data.action)
    assert len(fcs) == 52 and bpy.context.scene.frame_end == 12
    jaw = values_of(key_curve(fcs, "jawOpen"))
    assert np.allclose(jaw, res.arkit[:, ARKIT_NAMES.index("jawOpen")], atol=1e-5)
    assert len(sound_strips(bpy.context.scene)) == (1 if AUDIO else 0)  # the sound came along


def test_cli_ctrl_c_during_start_up_stops_the_run_with_one_line(tmp_path: Path) -> None:
    """A Ctrl-C that lands while Blender starts (bpy swallowed it there, and the run went on) ends the run: exit
    130, one line, no traceback, nothing written."""
    import os
    import signal

    env = {"PATH": "/usr/bin:/bin", "PARLEY_URL": "http://127.0.0.1:9"}
    out = tmp_path / "x.glb"
    for after in (0.1, 0.2):  # bpy is importing then: its start-up takes ~0.3 s here
        p = subprocess.Popen([sys.executable, "addon/cli.py", "--", "--audio", str(VOICE), "--face", str(FACE),
                              "--out", str(out), "--no-start"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        time.sleep(after)
        assert p.poll() is None
        os.killpg(p.pid, signal.SIGINT)
        _, err = p.communicate(timeout=120)
        assert p.returncode == 130 and "interrupted" in err and "Traceback" not in err, (after, err)
        assert not out.exists()


# ------------------------------------------------------------------------------------------------
# Live: Go Live on a file at its real pace (no microphone here), Record, Stop
# ------------------------------------------------------------------------------------------------
def pump_until(ext: ModuleType, done: Any, timeout: float = 20.0) -> None:
    """Call the live timer's body by hand (the bpy module runs no timers) until ``done()``."""
    t0 = time.time()
    while not done() and time.time() - t0 < timeout:
        ext.live_scene.pump()
        time.sleep(0.005)
    assert done(), "timed out"


def short_voice(tmp_path: Path, seconds: float) -> str:
    path = tmp_path / "line.wav"
    path.write_bytes(wav_bytes(seconds))
    return str(path)


def test_live_shows_frames_records_a_take_and_stop_keyframes_it(fresh: ModuleType, tmp_path: Path) -> None:
    obj = face_object(fresh)
    s = bpy.context.scene.parley
    s.live_input, s.audio_path, s.live_monitor = "FILE", short_voice(tmp_path, 3.0), False
    blocks = obj.data.shape_keys.key_blocks
    before = {k.name: k.value for k in blocks}
    assert bpy.ops.parley.live_start() == {"FINISHED"}
    session = fresh.live_scene.active()
    assert session is not None and not bpy.ops.parley.live_start.poll()  # one session at a time
    pump_until(fresh, lambda: session.frames >= 10)
    assert any(abs(blocks[k].value - v) > 1e-4 for k, v in before.items())  # the face moves …
    assert obj.delta_rotation_euler.to_quaternion().angle > 0.0  # … and the head
    assert bpy.ops.parley.live_record() == {"FINISHED"} and fresh.live_scene.recording()
    pump_until(fresh, lambda: session.take is not None and len(session.take) >= 30)
    assert bpy.ops.parley.live_stop() == {"FINISHED"}
    assert fresh.live_scene.active() is None
    assert "keyframed" in fresh.operators.last_message()[1]
    action = obj.data.shape_keys.animation_data.action
    assert action.name.endswith("Live Face")  # the offline take's layout, on an action of its own
    fcs = curves(action)
    jaw = values_of(key_curve(fcs, "jawOpen"))
    assert len(jaw) >= 30 and len(fcs) >= 50 and finite(fcs)
    assert len(curves(obj.animation_data.action)) == 6  # the head's rotation and location, as offline
    assert bpy.context.scene.frame_end == len(jaw)


def test_stop_without_a_take_gives_the_scene_back(fresh: ModuleType, tmp_path: Path) -> None:
    obj = face_object(fresh)
    assert bpy.ops.parley.animate() == {"FINISHED"}  # an offline take is on the face
    key = obj.data.shape_keys
    take, head = key.animation_data.action.name, obj.animation_data.action.name
    bpy.context.scene.frame_set(40)
    values = {k.name: k.value for k in key.key_blocks}
    pose = [*obj.delta_rotation_euler, *obj.delta_location]
    mode = obj.rotation_mode
    s = bpy.context.scene.parley
    s.live_input, s.audio_path, s.live_monitor = "FILE", short_voice(tmp_path, 2.0), False
    assert bpy.ops.parley.live_start() == {"FINISHED"}
    assert key.animation_data.action is None  # set aside while live, so its curves do not fight the live values
    session = fresh.live_scene.active()
    pump_until(fresh, lambda: session.frames >= 5)
    assert bpy.ops.parley.live_stop() == {"FINISHED"}
    assert "as it was before Go Live" in fresh.operators.last_message()[1]
    assert key.animation_data.action.name == take and obj.animation_data.action.name == head
    assert {k.name: k.value for k in key.key_blocks} == pytest.approx(values)
    assert [*obj.delta_rotation_euler, *obj.delta_location] == pytest.approx(pose) and obj.rotation_mode == mode


def test_the_file_running_out_ends_live_and_keeps_a_recording(fresh: ModuleType, tmp_path: Path) -> None:
    obj = face_object(fresh)
    s = bpy.context.scene.parley
    s.live_input, s.audio_path, s.live_monitor = "FILE", short_voice(tmp_path, 1.0), False
    assert bpy.ops.parley.live_start() == {"FINISHED"}
    bpy.ops.parley.live_record()
    pump_until(fresh, lambda: fresh.live_scene.active() is None)
    assert obj.data.shape_keys.animation_data.action.name.endswith("Live Face")


def test_go_live_without_a_microphone_says_so_and_changes_nothing(fresh: ModuleType) -> None:
    obj = face_object(fresh)
    s = bpy.context.scene.parley
    s.live_input, s.live_device = "MIC", "no-such-device-xyz"
    refused(bpy.ops.parley.live_start, "Live: .*mic")
    assert fresh.live_scene.active() is None
    assert obj.data.shape_keys.animation_data is None or obj.data.shape_keys.animation_data.action is None
