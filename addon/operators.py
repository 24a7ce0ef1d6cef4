"""Operators: thin shells that gather inputs, hand the server work to a thread, and write data on the main thread."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bpy
from bpy_extras.io_utils import ExportHelper

from . import local_server, prefs, scene, tasks, workflow
from .client import Cancelled, ParleyClient, ServerError, Upload
from .face import FACE_ID_TAG, build_face, is_parley_face, why_not_face

#: Tests set this to exercise the threaded path under the bpy module, which runs in background mode.
ASYNC_IN_BACKGROUND = False


def _synchronous() -> bool:
    return bool(bpy.app.background and not ASYNC_IN_BACKGROUND)


def _idle(context: bpy.types.Context) -> bool:
    return tasks.active() is None


def _face_ready(cls: type[bpy.types.Operator], context: bpy.types.Context) -> bool:
    """Poll for operators on a face Parley drives (a Parley head, or any mesh with ARKit shape keys): one must be
    active (else say what is needed) and no job running."""
    why = why_not_face(context.active_object)
    if why:
        cls.poll_message_set(why)
        return False
    return _idle(context)


# ------------------------------------------------------------------------------------------------
# nothing half-written: new datablocks made by a failed write are removed again
# ------------------------------------------------------------------------------------------------
_COLLECTIONS = ("objects", "meshes", "materials", "images", "actions")


def _snapshot() -> dict[str, set[int]]:
    return {c: {id.as_pointer() for id in getattr(bpy.data, c)} for c in _COLLECTIONS}


def _rollback(before: dict[str, set[int]]) -> None:
    for c in _COLLECTIONS:
        coll = getattr(bpy.data, c)
        for id in [i for i in coll if i.as_pointer() not in before[c]]:
            coll.remove(id)


def write_safely(fn: Callable[[], Any]) -> Any:
    """Run a main-thread write; if it raises, remove what it created and re-raise."""
    before = _snapshot()
    try:
        return fn()
    except BaseException:
        _rollback(before)
        raise


#: Server work of one operator: (client, report progress, should stop) → result; runs in a worker thread.
ServerWork = Callable[[ParleyClient, workflow.Progress, workflow.Stop], Any]


class Outcome(str):
    """A finish message that may carry a warning (reported as WARNING, not INFO)."""

    warning: bool

    def __new__(cls, text: str, warning: bool = False) -> Outcome:
        self = super().__new__(cls, text)
        self.warning = warning
        return self


def _level(text: str) -> str:
    return "WARNING" if getattr(text, "warning", False) else "INFO"


def run(op: bpy.types.Operator, label: str, work: ServerWork, finish: Callable[[Any], str]) -> set[str]:
    """Run ``work`` (thread, or inline in background mode), then ``finish`` on the main thread; report the outcome."""
    _, _, auto, exe = prefs.settings()
    client = prefs.client()

    def full(report: workflow.Progress, stop: workflow.Stop) -> Any:
        workflow.ensure_server(client, auto, exe, report)
        return work(client, report, stop)

    if _synchronous():
        try:
            result = full(lambda f, s: None, lambda: False)
            text = write_safely(lambda: finish(result))
            _last[:] = [(_level(text), str(text))]
            op.report({_level(text)}, text)
        except Exception as exc:
            op.report({"ERROR"}, f"Parley {label}: {workflow.message(exc)}")
            return {"CANCELLED"}
        return {"FINISHED"}

    def done(result: Any, error: BaseException | None) -> None:
        if error is None:
            try:
                text = write_safely(lambda: finish(result))
                _push_undo(f"Parley {label}")
                _notify(_level(text), text)
                return
            except Exception as exc:
                error = exc
        if isinstance(error, Cancelled):
            _notify("WARNING", f"Parley {label}: cancelled; the scene is unchanged")
        else:
            _notify("ERROR", f"Parley {label}: {workflow.message(error)}")

    tasks.start(tasks.Task(label, full, done))
    op.report({"INFO"}, f"Parley {label}: started")
    return {"FINISHED"}


_last: list[tuple[str, str]] = []


def last_message() -> tuple[str, str] | None:
    """The outcome of the last background task, shown in the panel."""
    return _last[-1] if _last else None


def _notify(kind: str, text: str) -> None:
    _last[:] = [(kind, text)]
    print(text)
    try:
        bpy.ops.parley.report("EXEC_DEFAULT", kind=kind, message=text)
    except RuntimeError:  # no window to report in (background): the print and the panel carry it
        pass


def _push_undo(message: str) -> None:
    try:
        bpy.ops.ed.undo_push(message=message)
    except RuntimeError:
        pass


def _abspath(path: str) -> str:
    return os.path.normpath(bpy.path.abspath(path)) if path else ""


# ------------------------------------------------------------------------------------------------
class PARLEY_OT_reconstruct(bpy.types.Operator):
    """Build the person's textured head, with eyes, teeth and the 52 ARKit shape keys, from a photo or video"""

    bl_idname = "parley.reconstruct"
    bl_label = "Reconstruct Face"
    bl_options = {"REGISTER", "UNDO"}

    face_path: bpy.props.StringProperty(name="Face", subtype="FILE_PATH",  # type: ignore[valid-type]
                                        description="Photo or video (default: the panel's)")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _idle(context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        face_path = _abspath(self.face_path or context.scene.parley.face_path)
        name = f"Parley_{Path(face_path).stem}" if face_path else "Parley_face"

        def work(client: ParleyClient, report: workflow.Progress, stop: workflow.Stop) -> dict[str, Any]:
            return workflow.reconstruct(client, face_path, report, stop)

        def finish(rec: dict[str, Any]) -> str:
            obj = build_face(bpy.context, name, rec)
            obj["parley_source"] = rec["face_path"]
            return f"Parley: made '{obj.name}' ({len(obj.data.vertices)} vertices, " \
                   f"{len(obj.data.shape_keys.key_blocks) - 1} shape keys)"

        return run(self, "Reconstruct", work, finish)


class PARLEY_OT_animate(bpy.types.Operator):
    """Animate the selected Parley head, or any mesh with ARKit shape keys, from the voice clip"""

    bl_idname = "parley.animate"
    bl_label = "Animate"
    bl_options = {"REGISTER", "UNDO"}

    audio_path: bpy.props.StringProperty(name="Audio", subtype="FILE_PATH",  # type: ignore[valid-type]
                                         description="Voice clip (default: the panel's)")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _face_ready(cls, context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        settings = context.scene.parley
        obj = context.active_object
        audio = _abspath(self.audio_path or settings.audio_path)
        fps = settings.fps or context.scene.render.fps / context.scene.render.fps_base
        target = scene.HeadTarget()
        if settings.head_target == "BONE":
            target = scene.HeadTarget(settings.armature, settings.bone)
        try:
            face = _face_upload(obj) if is_parley_face(obj) else _panel_face(settings.face_path)
            scene.plan_check(obj, target)
        except (ValueError, scene.SceneError) as exc:
            self.report({"ERROR"}, f"Parley Animate: {exc}")
            return {"CANCELLED"}
        name, articulation, language = obj.name, settings.articulation, settings.language
        text = settings.script_text.as_string() if settings.script_text is not None else settings.transcript
        face_id = str(obj.get(FACE_ID_TAG, ""))
        motion = workflow.motion_fields(settings.head_motion, None if settings.natural_blinks else settings.blink_rate,
                                        settings.gaze, settings.brows, settings.seed)

        def work(client: ParleyClient, report: workflow.Progress, stop: workflow.Stop) -> Any:
            return workflow.animate(client, audio, face, fps, text, report, stop, articulation, face_id, motion,
                                    language)

        def finish(m: Any) -> str:
            face_obj = bpy.data.objects.get(name)
            if face_obj is None:
                raise scene.SceneError(f"the face '{name}' was deleted while Parley worked")
            face_obj[RENDER_JOB_TAG] = m.job
            t = scene.HeadTarget(bpy.data.objects.get(target.armature.name) if target.armature else None, target.bone)
            info = scene.apply(bpy.context, face_obj, m, audio, t, title=f"{name} {Path(audio).stem}")
            text = f"Parley: animated '{name}': {info['frames']} frames at {info['fps']:g} fps"
            return Outcome(text + "".join(f"; {w}" for w in info["warnings"]), bool(info["warnings"]))

        return run(self, "Animate", work, finish)


#: Custom property: the server's id of the animation last applied to a face (what Render Photoreal renders).
RENDER_JOB_TAG = "parley_job"


def render_path(obj_name: str, audio: str, folder: str, blend: str) -> str:
    """Where Render Photoreal writes: ``folder`` if set, else next to the saved .blend; '' when neither is known."""
    base = _abspath(folder) if folder else (str(Path(blend).parent) if blend else "")
    if not base:
        return ""
    stem = f"{obj_name}_{Path(audio).stem}" if audio else obj_name
    return str(Path(base) / (bpy.path.clean_name(stem) + ".mp4"))


class PARLEY_OT_render_photoreal(bpy.types.Operator):
    """Render the face's Parley animation as a photoreal video of the person (the neural renderer) with the sound,
    written as an MP4 next to the .blend or into the panel's folder; Blender stays usable meanwhile"""

    bl_idname = "parley.render_photoreal"
    bl_label = "Render Photoreal"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if not _face_ready(cls, context):
            return False
        if not context.active_object.get(RENDER_JOB_TAG):
            cls.poll_message_set("Animate this face first: the video plays its Parley animation")
            return False
        return True

    def execute(self, context: bpy.types.Context) -> set[str]:
        settings = context.scene.parley
        obj = context.active_object
        out = render_path(obj.name, settings.audio_path, settings.render_dir, bpy.data.filepath)
        if not out:
            self.report({"ERROR"}, "Parley Render Photoreal: save the .blend first, or choose a folder for the video")
            return {"CANCELLED"}
        job, size = str(obj[RENDER_JOB_TAG]), settings.render_size  # the face: the one the animation was made with

        def work(client: ParleyClient, report: workflow.Progress, stop: workflow.Stop) -> str:
            try:
                return workflow.render(client, job, out, size, report, stop)
            except ServerError as exc:
                if exc.code == "job_not_found":
                    raise ServerError(exc.code, "the server no longer has this animation (it was restarted, or the "
                                      "result expired): press Animate again, then Render Photoreal") from None
                raise

        def finish(path: str) -> str:
            return f"Parley: wrote the photoreal video {path}"

        return run(self, "Render Photoreal", work, finish)


def _panel_face(path: str) -> Upload | None:
    """For a user's rig: the panel's face photo, if one is set (the ARKit solve fits that person), else none (the
    server's built-in portrait)."""
    p = _abspath(path)
    return workflow.read_upload(p, "face") if p and Path(p).is_file() else None


def _face_upload(obj: bpy.types.Object) -> Upload | None:
    """The face the object was made from (its file, or else its texture, which is that photo cropped)."""
    source = obj.get("parley_source", "")
    if source and Path(source).is_file():
        return workflow.read_upload(source, "face")
    for slot in obj.material_slots:
        mat = slot.material
        for node in mat.node_tree.nodes if mat and mat.node_tree else []:
            img = getattr(node, "image", None)
            if img is not None and img.packed_file is not None:
                return Upload(f"{obj.name}_texture.png", bytes(img.packed_file.data))
    return None


class PARLEY_OT_cancel(bpy.types.Operator):
    """Stop the running Parley job (the scene is left as it was)"""

    bl_idname = "parley.cancel"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return tasks.active() is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        task = tasks.active()
        if task is not None:
            task.cancel()
        return {"FINISHED"}


class PARLEY_OT_start_server(bpy.types.Operator):
    """Start a local Parley server with the program set in the preferences"""

    bl_idname = "parley.start_server"
    bl_label = "Start Server"

    def execute(self, context: bpy.types.Context) -> set[str]:
        url, token, _, exe = prefs.settings(context)
        if not local_server.is_local_url(url):
            self.report({"ERROR"}, f"{url} is not on this machine: start the server there")
            return {"CANCELLED"}
        try:
            local_server.start(exe, url, token, log_dir=bpy.utils.extension_path_user(__package__, create=True)
                               if prefs.get(context) else None)
        except (FileNotFoundError, OSError, ValueError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Parley: starting a server at {url} (its models load in a few seconds)")
        return {"FINISHED"}


class PARLEY_OT_report(bpy.types.Operator):
    """Show a Parley message"""

    bl_idname = "parley.report"
    bl_label = "Parley Message"
    bl_options = {"INTERNAL"}

    kind: bpy.props.StringProperty(default="INFO")  # type: ignore[valid-type]
    message: bpy.props.StringProperty()  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        self.report({self.kind}, self.message)
        return {"FINISHED"}


class _Export(ExportHelper):
    """Shared by the two exporters: the selected Parley face (and its armature) with its animation."""

    fmt = ""

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _face_ready(cls, context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            export(context, context.active_object, self.filepath)
        except (RuntimeError, scene.SceneError) as exc:
            self.report({"ERROR"}, f"Parley export: {exc}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Parley: wrote {self.filepath}")
        return {"FINISHED"}


class PARLEY_OT_export_gltf(bpy.types.Operator, _Export):
    """Export the animated face as binary glTF (shape-key morph animation and head motion)"""

    bl_idname = "parley.export_gltf"
    bl_label = "Export glTF"
    filename_ext = ".glb"
    filter_glob: bpy.props.StringProperty(default="*.glb", options={"HIDDEN"})  # type: ignore[valid-type]


class PARLEY_OT_export_fbx(bpy.types.Operator, _Export):
    """Export the animated face as FBX (shape-key animation and head motion)"""

    bl_idname = "parley.export_fbx"
    bl_label = "Export FBX"
    filename_ext = ".fbx"
    filter_glob: bpy.props.StringProperty(default="*.fbx", options={"HIDDEN"})  # type: ignore[valid-type]


def export(context: bpy.types.Context, obj: bpy.types.Object, path: str,
           also: list[bpy.types.Object] | None = None) -> None:
    """Write ``obj`` (its parent armature, and ``also``: the armature whose bone moves the head) with Blender's own
    exporter, chosen by suffix; a .blend is the whole file."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".glb", ".gltf", ".fbx", ".blend"):
        raise scene.SceneError(f"{path}: choose .glb, .gltf, .fbx or .blend")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".blend":
        bpy.ops.file.pack_all()
        bpy.ops.wm.save_as_mainfile(filepath=path, copy=True)
        return
    objs = [obj] + ([obj.parent] if obj.parent is not None and obj.parent.type == "ARMATURE" else [])
    objs += [o for o in also or [] if o not in objs]
    with context.temp_override(selected_objects=objs, active_object=obj):
        for o in context.view_layer.objects:
            if o is not None:
                o.select_set(o in objs)
        if suffix == ".fbx":
            bpy.ops.export_scene.fbx(filepath=path, use_selection=True, bake_anim=True, bake_anim_use_all_actions=False,
                                     bake_anim_use_nla_strips=False, bake_anim_simplify_factor=0.0,
                                     add_leaf_bones=False, path_mode="COPY", embed_textures=True)
        else:
            fmt = "GLB" if suffix == ".glb" else "GLTF_SEPARATE"
            bpy.ops.export_scene.gltf(filepath=path, export_format=fmt, use_selection=True, export_animations=True,
                                      export_animation_mode="SCENE", export_morph=True, export_morph_animation=True,
                                      export_force_sampling=True, export_anim_slide_to_zero=True)
            # frame 1 is where the sound starts: slid to 0 s, the first key and the audio begin together


# ------------------------------------------------------------------------------------------------
# Live: Go Live, Record, Stop
# ------------------------------------------------------------------------------------------------
def _live_idle(cls: type[bpy.types.Operator], context: bpy.types.Context) -> bool:
    from . import live_scene

    if live_scene.active() is not None:
        cls.poll_message_set("Parley is live: Stop first")
        return False
    return _face_ready(cls, context)


class PARLEY_OT_live_start(bpy.types.Operator):
    """Drive the selected head or ARKit rig live from the microphone (on the server's machine) or the voice clip
    played at its real pace"""

    bl_idname = "parley.live_start"
    bl_label = "Go Live"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return _live_idle(cls, context)

    def execute(self, context: bpy.types.Context) -> set[str]:
        from . import live_scene
        from .live import LiveFeed

        settings = context.scene.parley
        obj = context.active_object
        fps = settings.fps or context.scene.render.fps / context.scene.render.fps_base
        target = scene.HeadTarget(settings.armature, settings.bone) if settings.head_target == "BONE" \
            else scene.HeadTarget()
        audio = _abspath(settings.audio_path) if settings.live_input == "FILE" else None
        try:
            scene.plan_check(obj, target)
            if settings.live_input == "FILE" and not (audio and Path(audio).is_file()):
                raise scene.SceneError("Live from a file needs the panel's Audio clip")
            _, _, auto, exe = prefs.settings()
            client = prefs.client()
            workflow.ensure_server(client, auto, exe)
            sound = workflow.read_upload(audio, "audio") if audio else None
            face = _face_upload(obj) if is_parley_face(obj) else _panel_face(settings.face_path)
            motion = workflow.motion_fields(settings.head_motion,
                                            None if settings.natural_blinks else settings.blink_rate,
                                            settings.gaze, settings.brows, settings.seed)
            info = client.start_live(sound, fps, None, settings.live_device or None, motion, face)
        except (ValueError, OSError, scene.SceneError, ServerError) as exc:
            self.report({"ERROR"}, f"Parley Live: {workflow.message(exc)}")
            return {"CANCELLED"}
        except Exception as exc:  # noqa: BLE001 — no server, or it broke off: one line, nothing changed
            self.report({"ERROR"}, f"Parley Live: {workflow.message(exc)}")
            return {"CANCELLED"}
        feed = LiveFeed(client, info["id"])
        try:
            s = live_scene.begin(obj, target, feed, fps, audio, settings.live_monitor)
        except scene.SceneError as exc:
            feed.stop()
            self.report({"ERROR"}, f"Parley Live: {exc}")
            return {"CANCELLED"}
        s.title = f"{obj.name} Live"
        src = "the microphone" if audio is None else Path(audio).name
        text = f"Parley Live: '{obj.name}' follows {src} (look-ahead {info['lookahead_s'] * 1000:.0f} ms)"
        _last[:] = [("INFO", text)]
        self.report({"INFO"}, text)
        return {"FINISHED"}


class PARLEY_OT_live_record(bpy.types.Operator):
    """Keep the live frames as a take (Stop writes it as keyframes); again to stop recording"""

    bl_idname = "parley.live_record"
    bl_label = "Record"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        from . import live_scene

        return live_scene.active() is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        from . import live_scene

        on = not live_scene.recording()
        live_scene.record(on)
        self.report({"INFO"}, "Parley Live: recording" if on else "Parley Live: recording paused (Stop keeps the take)")
        return {"FINISHED"}


class PARLEY_OT_live_stop(bpy.types.Operator):
    """Stop Live: a recorded take becomes keyframes; without one the scene is as it was before Go Live"""

    bl_idname = "parley.live_stop"
    bl_label = "Stop"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        from . import live_scene

        return live_scene.active() is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        from . import live_scene

        info = write_safely(lambda: live_scene.finish(keep=True))
        if info.get("take"):
            text = f"Parley Live: stopped; the take ({info['take']} frames) is keyframed"
        else:
            text = "Parley Live: stopped; the scene is as it was before Go Live"
        _last[:] = [("INFO", text)]
        self.report({"INFO"}, text)
        return {"FINISHED"}


CLASSES = (PARLEY_OT_reconstruct, PARLEY_OT_animate, PARLEY_OT_render_photoreal, PARLEY_OT_cancel,
           PARLEY_OT_start_server, PARLEY_OT_report,
           PARLEY_OT_export_gltf, PARLEY_OT_export_fbx, PARLEY_OT_live_start, PARLEY_OT_live_record,
           PARLEY_OT_live_stop)
