"""The 3D Viewport › Parley sidebar panel."""

from __future__ import annotations

import bpy

from . import local_server, operators, prefs, tasks
from .face import why_not_face


class PARLEY_PT_main(bpy.types.Panel):
    """Parley: reconstruct a face, animate it from a voice clip, export it."""

    bl_label = "Parley"
    bl_idname = "PARLEY_PT_main"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Parley"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        settings = context.scene.parley
        url, token, _, _ = prefs.settings(context)
        status = local_server.cached_status(url, token)
        row = layout.row()
        row.label(text=f"Server: {status}", icon="CHECKMARK" if status == "ready" else "INFO")
        if status == "not running":
            row.operator("parley.start_server", text="", icon="PLAY")

        box = layout.box()
        box.label(text="Face", icon="USER")
        box.prop(settings, "face_path", text="")
        box.operator("parley.reconstruct", icon="MESH_MONKEY")

        box = layout.box()
        box.label(text="Voice", icon="SPEAKER")
        box.prop(settings, "audio_path", text="")
        col = box.column(align=True)
        col.prop(settings, "transcript")
        row = col.row(align=True)
        row.prop(settings, "script_text", text="")
        row.prop(settings, "language", text="")
        box.prop(settings, "fps")
        box.prop(settings, "articulation", slider=True)
        col = box.column(align=True)
        col.prop(settings, "head_motion", slider=True)
        row = col.row(align=True)
        row.prop(settings, "natural_blinks", text="Natural Blinks")
        sub = row.row(align=True)
        sub.enabled = not settings.natural_blinks
        sub.prop(settings, "blink_rate", text="")
        col.prop(settings, "gaze")
        row = col.row(align=True)
        row.prop(settings, "brows")
        row.prop(settings, "seed")
        box.prop(settings, "head_target")
        if settings.head_target == "BONE":
            box.prop(settings, "armature")
            if settings.armature is not None and settings.armature.type == "ARMATURE":
                box.prop_search(settings, "bone", settings.armature.data, "bones")
        why = why_not_face(context.active_object)
        if why:
            box.label(text=why, icon="ERROR")
        box.operator("parley.animate", icon="PLAY_SOUND")

        from . import live_scene

        box = layout.box()
        box.label(text="Live", icon="REC")
        session = live_scene.active()
        if session is None:
            row = box.row(align=True)
            row.prop(settings, "live_input", text="")
            if settings.live_input == "MIC":
                row.prop(settings, "live_device", text="")
            else:
                row.prop(settings, "live_monitor")
            box.operator("parley.live_start", icon="PLAY")
        else:
            take = len(session.take) if session.take is not None else 0
            box.label(text=f"{session.rate.per_second:.1f} frames/s shown · {session.frames} frames · take {take}")
            row = box.row(align=True)
            row.operator("parley.live_record", icon="REC", depress=live_scene.recording())
            row.operator("parley.live_stop", icon="SNAP_FACE")

        box = layout.box()
        box.label(text="Photoreal Video", icon="RENDER_ANIMATION")
        row = box.row(align=True)
        row.prop(settings, "render_size")
        row.prop(settings, "render_dir", text="")
        box.operator("parley.render_photoreal", icon="FILE_MOVIE")

        task = tasks.active()
        if task is not None:
            col = layout.column()
            col.progress(factor=task.progress, type="BAR", text=f"{task.label}: {task.stage}")
            col.operator("parley.cancel", icon="CANCEL")
        else:
            last = operators.last_message()
            if last is not None:
                layout.label(text=last[1], icon="ERROR" if last[0] == "ERROR" else "INFO")

        row = layout.row(align=True)
        row.operator("parley.export_gltf", icon="EXPORT")
        row.operator("parley.export_fbx", icon="EXPORT")


CLASSES = (PARLEY_PT_main,)
