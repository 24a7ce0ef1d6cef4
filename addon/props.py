"""Per-scene inputs of the Parley panel (files, frame rate, head target)."""

from __future__ import annotations

import bpy

from .limits import LIMITS


def _is_armature(_self: bpy.types.PropertyGroup, obj: bpy.types.Object) -> bool:
    return bool(obj.type == "ARMATURE")


class ParleySettings(bpy.types.PropertyGroup):
    face_path: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Face", subtype="FILE_PATH", description="A photo or a few seconds of video of the face")
    audio_path: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Audio", subtype="FILE_PATH", description="The voice clip (WAV, FLAC, MP3, OGG…)")
    transcript: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Script", description="Optional: the line's words. Where the voice says them they drive the mouth "
        "(closures on p, b, m, open vowels); words it does not say are left to the voice")
    script_text: bpy.props.PointerProperty(  # type: ignore[valid-type]
        name="Script Text", type=bpy.types.Text,
        description="Optional: a text block holding the line's script (for long lines; used instead of Script)")
    language: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Language", items=[("en", "English", ""), ("fr", "French", ""), ("de", "German", ""),
                                ("es", "Spanish", ""), ("it", "Italian", ""), ("pt", "Portuguese", "")],
        default="en", description="The script's language")
    fps: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="FPS", default=0.0, min=0.0, max=LIMITS["fps"][1],
        description="Frame rate of the animation (0: the scene's)")
    articulation: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Articulation", default=1.0, min=LIMITS["articulation"][0], max=LIMITS["articulation"][1],
        description="How far the mouth moves: 0 still, 1 a real talker's range, 2 exaggerated")
    head_motion: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Head Motion", default=1.0, min=LIMITS["head_motion"][0], max=LIMITS["head_motion"][1],
        description="How much the head moves: 0 still, 1 a talker in conversation, 2 twice as much")
    natural_blinks: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Natural Blinks", default=True,
        description="Blink at a conversational rate, more at pauses and phrase ends (off: the rate below)")
    blink_rate: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Blinks/min", default=17.0, min=LIMITS["blink_rate"][0], max=LIMITS["blink_rate"][1],
        description="Blinks per minute")
    gaze: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Gaze", items=[("free", "Free", "Fixations with small saccades, shifting at blinks"),
                            ("camera", "Camera", "The eyes stay on the camera as the head moves"),
                            ("off", "Off", "The eyes look straight ahead")], default="free")
    brows: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Brows", default=True, description="Brow raises on emphasis (pitch accents)")
    seed: bpy.props.IntProperty(  # type: ignore[valid-type]
        name="Seed", default=0, min=0, description="Another seed gives another take (blinks, gaze, sway)")
    head_target: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Head", items=[("OBJECT", "Face Object", "Rotate and move the face object itself"),
                            ("BONE", "Armature Bone", "Rotate and move a bone of an armature")],
        default="OBJECT")
    armature: bpy.props.PointerProperty(  # type: ignore[valid-type]
        name="Armature", type=bpy.types.Object, poll=_is_armature)
    bone: bpy.props.StringProperty(name="Bone", description="The head bone")  # type: ignore[valid-type]
    live_input: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Live Input", items=[("MIC", "Microphone", "The default input device of the server's machine"),
                                  ("FILE", "Audio Clip", "The panel's voice clip, played at its real pace")],
        default="MIC")
    live_device: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Device", description="Input device index or name (empty: the default)")
    live_monitor: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Monitor", default=True, description="Play the audio clip while it drives the face (Audio Clip input)")
    render_size: bpy.props.IntProperty(  # type: ignore[valid-type]
        name="Size", default=512, min=64, max=2048, description="Photoreal video: pixels on the long side")
    render_dir: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Folder", subtype="DIR_PATH",
        description="Where Render Photoreal writes its MP4 (empty: next to the .blend)")


def register_props() -> None:
    bpy.types.Scene.parley = bpy.props.PointerProperty(type=ParleySettings)


def unregister_props() -> None:
    del bpy.types.Scene.parley


CLASSES = (ParleySettings,)
