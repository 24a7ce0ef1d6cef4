"""Live mode in the scene (main thread only): frames from the server's live stream shown on a Parley head or an ARKit
rig by a timer, a take recorded as keyframes, and the scene given back as it was when no take was kept.

Go Live remembers what it will touch — the ARKit keys' values, the head's transform, and the actions on the shape
keys, the face and the head bone's armature (set aside so their curves do not overwrite the live values) — and Stop
puts all of it back. With a recorded take, Stop then writes it through ``scene.apply``: the same actions, names and
layout as an offline take, on actions of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import bpy
import numpy as np

from . import motion as mo
from . import scene, tasks
from .arkit import ARKIT_NAMES, match_rig
from .face import is_parley_face
from .live import LiveFeed, Rate, Take

#: How often the timer looks for frames (s): well under a frame at 60 fps, so a frame waits at most this long.
POLL = 0.005


@dataclass
class Session:
    """One Go Live: what it drives, what it must give back, what it recorded."""

    feed: LiveFeed
    obj_name: str
    target: scene.HeadTarget
    fps: float
    keys: dict[str, str]  # ARKit name → the mesh's shape key
    saved: dict[str, Any] = field(default_factory=dict)
    take: Take | None = None
    rate: Rate = field(default_factory=Rate)
    frames: int = 0
    audio: str | None = None
    sound: Any = None  # aud handle while the file is monitored
    title: str = ""
    message: str = ""


_session: Session | None = None


def active() -> Session | None:
    return _session


def _actions(obj: bpy.types.Object, target: scene.HeadTarget) -> list[tuple[Any, Any]]:
    owners = [obj.data.shape_keys, obj] + ([target.armature] if target.armature is not None else [])
    return [(o, o.animation_data.action if o.animation_data else None) for o in owners]


def begin(obj: bpy.types.Object, target: scene.HeadTarget, feed: LiveFeed, fps: float,
          audio: str | None = None, monitor: bool = False) -> Session:
    """Remember the scene, set the actions aside, start showing frames. Raises SceneError before any change."""
    global _session
    scene.plan_check(obj, target)
    keys, _ = match_rig(ARKIT_NAMES, [k.name for k in obj.data.shape_keys.key_blocks])
    if not keys:
        raise scene.SceneError(f"'{obj.name}' has no ARKit shape keys to drive live")
    blocks = obj.data.shape_keys.key_blocks
    saved: dict[str, Any] = {"values": {k: blocks[k].value for k in keys.values()},
                             "actions": _actions(obj, target), "rotation_mode": obj.rotation_mode,
                             "delta_rotation": tuple(obj.delta_rotation_euler),
                             "delta_location": tuple(obj.delta_location)}
    if target.armature is not None:
        pb = target.armature.pose.bones[target.bone]
        saved["bone"] = (pb.rotation_mode, tuple(pb.rotation_quaternion), tuple(pb.location))
    for owner, action in saved["actions"]:
        if action is not None:
            owner.animation_data.action = None
    s = Session(feed, obj.name, target, fps, keys, saved, audio=audio)
    if audio and monitor:
        s.sound = _play(audio)
    _session = s
    if not bpy.app.timers.is_registered(pump):
        bpy.app.timers.register(pump, first_interval=POLL)
    return s


def _play(path: str) -> Any:
    """The file heard while it drives the face (Blender's audio device); None where Blender has no audio."""
    try:
        import aud

        return aud.Device().play(aud.Sound(path))
    except Exception:  # noqa: BLE001 — a build without audio (the 4.2 module) or no sound card: just no monitoring
        return None


def show(s: Session, frame: dict[str, Any]) -> None:
    """One frame on the face: ARKit keys, and the head (the face object's delta transform, or the head bone)."""
    obj = bpy.data.objects.get(s.obj_name)
    if obj is None:
        raise scene.SceneError(f"the face '{s.obj_name}' was deleted during Live")
    blocks = obj.data.shape_keys.key_blocks
    w = frame["arkit"]
    for i, name in enumerate(ARKIT_NAMES):
        key = s.keys.get(name)
        if key is not None:
            blocks[key].value = min(1.0, max(0.0, float(w[i])))
    pose = np.asarray(frame["pose"], np.float64)[None]
    if s.target.armature is not None:
        bone = s.target.armature.data.bones[s.target.bone]
        quat, loc = mo.bone_pose(pose, np.array([list(r) for r in bone.matrix_local.to_3x3()]))
        pb = s.target.armature.pose.bones[s.target.bone]
        pb.rotation_mode = "QUATERNION"
        pb.rotation_quaternion, pb.location = quat[0], loc[0]
    elif is_parley_face(obj):  # a character's mesh keeps still: its head needs the bone (as offline)
        euler, loc = mo.object_pose(pose)
        obj.rotation_mode = "XZY"
        obj.delta_rotation_euler, obj.delta_location = euler[0], loc[0]


def pump() -> float | None:
    """Timer body (tests call it by hand): take the frames that arrived, show the newest, record them all."""
    s = _session
    if s is None:
        return None
    frames = s.feed.take()
    if frames:
        try:
            show(s, frames[-1])
        except scene.SceneError as exc:
            s.message = str(exc)
            finish(keep=False)
            return None
        s.frames += len(frames)
        s.rate.tick(1)
        if s.take is not None:
            for f in frames:
                s.take.add(f)
        tasks._redraw()
    elif s.feed.state != "running":  # the file ran out, or the server ended the session
        s.message = s.feed.error or f"the live input {s.feed.state}"
        finish(keep=s.take is not None and len(s.take) > 0)
        return None
    return POLL


def record(on: bool) -> None:
    """Start (a fresh take) or stop keeping frames; a stopped take stays until Stop writes it."""
    s = _session
    if s is not None:
        s.take = Take() if on else s.take
        s.saved["recording"] = on


def recording() -> bool:
    s = _session
    return bool(s is not None and s.saved.get("recording"))


def finish(keep: bool = True) -> dict[str, Any]:
    """End Live: stop the stream, give the scene back; with a recorded take (and ``keep``), write it as keyframes."""
    global _session
    s = _session
    if s is None:
        return {}
    _session = None
    if bpy.app.timers.is_registered(pump):
        bpy.app.timers.unregister(pump)
    s.feed.stop()
    if s.sound is not None:
        try:
            s.sound.stop()
        except Exception:  # noqa: BLE001 — already finished
            pass
    for f in s.feed.take():  # what arrived after the last tick belongs to the take too
        if s.take is not None and s.saved.get("recording"):
            s.take.add(f)
    _restore(s)
    info: dict[str, Any] = {"frames_shown": s.frames, "message": s.message, "take": 0}
    obj = bpy.data.objects.get(s.obj_name)
    if keep and s.take is not None and len(s.take) and obj is not None:
        m = s.take.motion(s.fps, ARKIT_NAMES)
        out = scene.apply(bpy.context, obj, m, None, s.target, title=s.title or f"{s.obj_name} Live")
        info |= {"take": len(s.take), "applied": out}
    return info


def _restore(s: Session) -> None:
    obj = bpy.data.objects.get(s.obj_name)
    if obj is None:
        return
    blocks = obj.data.shape_keys.key_blocks if obj.data.shape_keys else {}
    for k, v in s.saved["values"].items():
        if k in blocks:
            blocks[k].value = v
    obj.rotation_mode = s.saved["rotation_mode"]
    obj.delta_rotation_euler = s.saved["delta_rotation"]
    obj.delta_location = s.saved["delta_location"]
    if "bone" in s.saved and s.target.armature is not None:
        pb = s.target.armature.pose.bones.get(s.target.bone)
        if pb is not None:
            pb.rotation_mode, pb.rotation_quaternion, pb.location = s.saved["bone"]
    for owner, action in s.saved["actions"]:
        if action is not None and owner is not None:
            (owner.animation_data or owner.animation_data_create()).action = action

