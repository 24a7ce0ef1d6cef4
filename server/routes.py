"""The /v1 routes: each reads its input, hands work to the job manager, and answers. No model maths."""

from __future__ import annotations

import asyncio
import math
import re
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from server.errors import ApiError, error_status
from server.jobs import Job
from server.schemas import AnimateResult, Deleted, ErrorBody, Health, JobStatus, ModelsInfo, Ready, ReconstructResult
from server.state import VERSION, state_of
from server.uploads import Form
from server.work import (
    MESH_GLB,
    REFERENCE_NPZ,
    RENDER_MP4,
    RESULT_NPZ,
    animate_json,
    animate_npz_light,
    reconstruct_json,
)

router = APIRouter(prefix="/v1")
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 410, 413, 415, 422, 500, 503, 504)
}


def _multipart(files: dict[str, str], fields: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    props: dict[str, Any] = {k: {"type": "string", "format": "binary", "description": v} for k, v in files.items()}
    props.update(fields)
    schema = {"type": "object", "properties": props, "required": required}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


@router.get("/health", response_model=Health)
async def health() -> Health:
    """Liveness: the process answers (no token needed)."""
    return Health(version=VERSION)


@router.get("/ready", response_model=Ready, responses=ERRORS)
async def ready(request: Request) -> Ready:
    """Readiness: 200 once the models are loaded and warmed up, 503 before (or if they failed, or on shutdown)."""
    st = state_of(request)
    return Ready(ready=True, load_seconds=st.load_seconds, device=st.require_ready().device)


@router.get("/models", response_model=ModelsInfo, responses=ERRORS)
async def models(request: Request) -> dict[str, Any]:
    """The loaded checkpoints: kind, config, validation metrics, file hash, and the model cards."""
    return await asyncio.to_thread(state_of(request).models_info)


def _job_status(job: Job, ttl: float) -> JobStatus:
    return JobStatus.model_validate(job.public(ttl))


@router.post("/reconstruct", response_model=ReconstructResult, responses=ERRORS,
             openapi_extra=_multipart({"face": "a photo or a short video of one face"}, {}, ["face"]))
async def reconstruct(request: Request, format: Literal["json", "glb"] = "json") -> Response:
    """Photo or video bytes → textured mesh (GLB) + identity landmarks + the shape-key rig. Waits for the result."""
    st = state_of(request)
    st.require_ready()
    st.manager.check_capacity()
    form = await Form.read(request, files={"face"}, fields=set())
    try:
        if "face" not in form.files:
            raise ApiError(422, "invalid_request", "a 'face' file part (photo or video) is required")
        job_id, folder = st.manager.new_dir()
        with st.manager.discard_on_error(folder):
            path, name = await form.save("face", folder, "face")
    finally:
        await form.close()
    job = st.manager.submit(Job(job_id, "reconstruct", folder, {"face": path.name}, {str(path): name}))
    await st.manager.wait(job, request.is_disconnected)
    return await _finished(job, format, landmarks=True)


def _face_ref(st: Any, face_id: str | None, has_face: bool) -> Path | None:
    """The saved face of a finished reconstruct job, for an animate request that names it."""
    if not face_id:
        return None
    if has_face:
        raise ApiError(422, "invalid_request", "give either a 'face' file or a face_id, not both")
    job = st.manager.jobs.get(face_id)
    path = job.dir / REFERENCE_NPZ if job is not None and job.kind == "reconstruct" and job.state == "done" else None
    if path is None or not path.is_file():
        raise ApiError(404, "face_not_known", f"no reconstructed face {face_id[:40]!r} (unknown or expired after "
                       f"{st.config.result_ttl_s / 3600:g} h): upload the photo or video again")
    return path


def _bounds(key: str) -> dict[str, float]:
    """The OpenAPI bounds of a take option: core's own limits."""
    from core.take import LIMITS

    return {"minimum": LIMITS[key][0], "maximum": LIMITS[key][1]}


def _spontaneous(fields: dict[str, str]) -> dict[str, Any]:
    """The head/blink/gaze/brow settings of an animate form, checked (core's Spontaneous says what is allowed)."""
    from core.errors import ParleyError
    from core.take import Spontaneous

    brows = fields.get("brows", "true").strip().lower()
    if brows not in ("true", "false", "on", "off", "1", "0", ""):
        raise ApiError(422, "invalid_request", f"brows {brows[:20]!r} must be true or false")
    try:
        sp = Spontaneous(_number(fields, "head_motion", 1.0),
                         Spontaneous.parse_blink_rate(fields.get("blink_rate")),
                         fields.get("gaze", "free") or "free", brows in ("true", "on", "1", ""))
        sp.check()
    except ParleyError as exc:
        raise ApiError(422, "invalid_request", str(exc).removeprefix("--").replace("-", "_", 1)) from None
    return {"head_motion": sp.head_motion, "blink_rate": sp.blink_rate, "gaze": sp.gaze, "brows": sp.brows}


def _number(fields: dict[str, str], key: str, default: float, lo: float | None = None,
            hi: float | None = None) -> float:
    """A form field as a number within [lo, hi] (by default the take's limits, ``core.take.LIMITS``)."""
    from core.take import LIMITS

    if lo is None or hi is None:
        lo, hi = LIMITS[key]
    raw = fields.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(422, "invalid_request", f"{key} {raw[:40]!r} is not a number") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ApiError(422, "invalid_request", f"{key} {raw[:40]!r} must be between {lo:g} and {hi:g}")
    return value


def _script(fields: dict[str, str]) -> tuple[str | None, str]:
    """The script and its language, checked before the job is admitted (422 when unusable)."""
    from core.errors import ParleyError
    from core.speech.script import check_script

    language = fields.get("language", "en") or "en"
    try:
        return check_script(fields.get("text"), language), language
    except ParleyError as exc:
        why = str(exc).replace("--text", "text").replace("--language", "language")
        raise ApiError(422, "invalid_request", why) from None


@router.post("/animate", response_model=JobStatus, status_code=202, responses=ERRORS,
             openapi_extra=_multipart(
                 {"audio": "the voice clip (WAV, FLAC, OGG, MP3, M4A, or a video's sound track)",
                  "face": "optional photo or video of the face (default: the built-in portrait)"},
                 {"fps": {"type": "number", "default": 30, **_bounds("fps")},
                  "text": {"type": "string", "description": "optional script of the line: its words drive the mouth "
                           "where the audio says them (words it does not say are listed in meta 'script')"},
                  "language": {"type": "string", "enum": ["en", "fr", "de", "es", "it", "pt"], "default": "en",
                               "description": "the script's language (other than en: phonemised by espeak-ng)"},
                  "seed": {"type": "integer", "default": 0},
                  "face_id": {"type": "string", "description": "a face /v1/reconstruct made (its face_id), instead "
                              "of uploading the photo or video again"},
                  "articulation": {"type": "number", "default": 1, **_bounds("articulation"),
                                   "description": "mouth range: 0 still, 1 a real talker's, 2 exaggerated"},
                  "head_motion": {"type": "number", "default": 1, **_bounds("head_motion"),
                                  "description": "head motion: 0 still, 1 a talker's, 2 twice as much"},
                  "blink_rate": {"type": "string", "default": "natural",
                                 "description": "'natural' (conversational, more at pauses) or blinks per minute 0–60"},
                  "gaze": {"type": "string", "enum": ["free", "camera", "off"], "default": "free"},
                  "brows": {"type": "boolean", "default": True, "description": "brow raises on pitch accents"}},
                 ["audio"]))
async def animate(request: Request, wait: bool = Query(False, description="answer only when the job has finished "
                  "(a client that disconnects meanwhile cancels it)")) -> JSONResponse:
    """Audio (+ face) → an animation job. Poll ``/v1/jobs/{id}``, then fetch ``/v1/jobs/{id}/result``."""
    st = state_of(request)
    st.require_ready()
    st.manager.check_capacity()
    form = await Form.read(request, files={"audio", "face"}, fields={"fps", "text", "seed", "articulation", "face_id",
                                                                          "head_motion", "blink_rate", "gaze", "brows",
                                                                          "language"})
    try:
        if "audio" not in form.files:
            raise ApiError(422, "invalid_request", "an 'audio' file part is required")
        fps = _number(form.fields, "fps", 30.0)
        seed = int(_number(form.fields, "seed", 0, 0, 2**31 - 1))
        articulation = _number(form.fields, "articulation", 1.0)
        motion = _spontaneous(form.fields)
        text, language = _script(form.fields)
        face_ref = _face_ref(st, form.fields.get("face_id"), "face" in form.files)
        job_id, folder = st.manager.new_dir()
        with st.manager.discard_on_error(folder):
            audio, audio_name = await form.save("audio", folder, "audio", ".bin")
            params: dict[str, Any] = {"audio": audio.name, "fps": fps, "seed": seed, "text": text,
                                      "language": language, "articulation": articulation, "motion": motion}
            if face_ref is not None:
                params["face_id"], params["face_ref"] = form.fields["face_id"], str(face_ref)
            names = {str(audio): audio_name}
            if "face" in form.files:
                face, face_name = await form.save("face", folder, "face")
                params["face"], names[str(face)] = face.name, face_name
    finally:
        await form.close()
    job = st.manager.submit(Job(job_id, "animate", folder, params, names))
    if wait:
        await st.manager.wait(job, request.is_disconnected)
    status = 200 if job.state in ("done", "cancelled") else 202
    if job.state == "failed":  # with ?wait=true a failed job answers with its error's status (422 for bad input)
        status = error_status((job.error or {}).get("error", "failed"))
    body = _job_status(job, st.config.result_ttl_s).model_dump(mode="json")
    return JSONResponse(body, status_code=status, headers={"Location": f"/v1/jobs/{job.id}"})


@router.post("/render", response_model=JobStatus, status_code=202, responses=ERRORS,
             openapi_extra=_multipart(
                 {"face": "optional photo or video of the face (default: the animation's own face)"},
                 {"job_id": {"type": "string", "description": "a finished /v1/animate job: its result and its audio"},
                  "face_id": {"type": "string", "description": "a face /v1/reconstruct made, instead of a file"},
                  "size": {"type": "integer", "default": 512, "minimum": 64, "maximum": 2048,
                           "description": "pixels on the long side"}},
                 ["job_id"]))
async def render_video(request: Request) -> JSONResponse:
    """A finished animation played by the person in the photo → a job whose result is the MP4 (sound muxed in)."""
    from core.reference import DEMO_FACE

    st = state_of(request)
    st.require_ready()
    st.manager.check_capacity()
    form = await Form.read(request, files={"face"}, fields={"job_id", "face_id", "size"})
    try:
        size = int(_number(form.fields, "size", 512, 64, 2048))
        anim_id = form.fields.get("job_id", "")
        anim = st.manager.jobs.get(anim_id) if JOB_ID.match(anim_id or "") else None
        if anim is None or anim.kind != "animate" or anim.state != "done" or not (anim.dir / RESULT_NPZ).is_file():
            raise ApiError(404, "job_not_found", f"no finished animation {anim_id[:40]!r} to render (unknown, not "
                           "done, or expired): animate first and give its job id")
        job_id, folder = st.manager.new_dir()
        with st.manager.discard_on_error(folder):
            audio = str(anim.dir / anim.params["audio"])
            params: dict[str, Any] = {"result": str(anim.dir / RESULT_NPZ), "audio": audio, "size": size}
            names = {audio: anim.names.get(audio, "audio")}
            if "face" in form.files:
                face, face_name = await form.save("face", folder, "face")
                params["face"], names[str(face)] = str(face), face_name
            elif form.fields.get("face_id"):
                rec = st.manager.jobs.get(form.fields["face_id"])
                if rec is None or rec.kind != "reconstruct" or rec.state != "done":
                    raise ApiError(404, "face_not_known", "no reconstructed face with that face_id: upload the photo")
                params["face"] = str(rec.dir / rec.params["face"])
            elif anim.params.get("face"):
                params["face"] = str(anim.dir / anim.params["face"])
            elif anim.params.get("face_id") and st.manager.jobs.get(anim.params["face_id"]) is not None:
                rec = st.manager.jobs[anim.params["face_id"]]
                params["face"] = str(rec.dir / rec.params["face"])
            else:
                params["face"] = str(DEMO_FACE)  # the animation used the built-in portrait
    finally:
        await form.close()
    job = st.manager.submit(Job(job_id, "render", folder, params, names))
    body = _job_status(job, st.config.result_ttl_s).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


def _job(request: Request, job_id: str) -> Job:
    if not JOB_ID.match(job_id):
        raise ApiError(404, "job_not_found", "job ids are 32 hexadecimal digits")
    return state_of(request).manager.get(job_id)


@router.get("/jobs/{job_id}", response_model=JobStatus, responses=ERRORS)
async def job_status(request: Request, job_id: str) -> JobStatus:
    """State (queued, running, done, failed, cancelled), progress 0–1, stage, error."""
    return _job_status(_job(request, job_id), state_of(request).config.result_ttl_s)


@router.get("/jobs/{job_id}/result", responses={**ERRORS, 200: {"model": AnimateResult, "content": {
    "application/x-npz": {}}}})
async def job_result(request: Request, job_id: str, format: Literal["json", "npz", "glb", "mp4"] = "json",
                     landmarks: bool = True) -> Response:
    """The result: for animate, the result contract as JSON (or NPZ); for reconstruct, as POST /v1/reconstruct; for
    render, the MP4."""
    return await _finished(_job(request, job_id), format, landmarks)


async def _finished(job: Job, format: str, landmarks: bool) -> Response:
    if job.state in ("queued", "running"):
        raise ApiError(409, "job_not_finished", f"job {job.id} is {job.state} ({job.progress:.0%})")
    if job.state == "cancelled":
        raise ApiError(410, "job_cancelled", f"job {job.id} was cancelled")
    if job.state == "failed":
        err = job.error or {"error": "failed", "message": "the job failed"}
        raise ApiError(error_status(err["error"]), err["error"], err["message"])
    try:
        if job.kind == "render":
            if format not in ("json", "mp4"):
                raise ApiError(422, "invalid_request", f"format={format} is not for render jobs: their result is MP4")
            return _file(job, RENDER_MP4, "video/mp4")
        if job.kind == "animate":
            if format == "npz":
                if landmarks:
                    return _file(job, RESULT_NPZ, "application/x-npz")
                body = await asyncio.to_thread(animate_npz_light, job.dir)
                return Response(body, media_type="application/x-npz")
            if format == "glb":
                raise ApiError(422, "invalid_request", "format=glb is for reconstruct jobs; use json or npz")
            return Response(await asyncio.to_thread(animate_json, job.dir, landmarks), media_type="application/json")
        if format == "glb":
            return _file(job, MESH_GLB, "model/gltf-binary")
        if format == "npz":
            raise ApiError(422, "invalid_request", "format=npz is for animate jobs; use json or glb")
        return Response(await asyncio.to_thread(reconstruct_json, job.dir), media_type="application/json")
    except FileNotFoundError:
        raise ApiError(410, "result_gone", f"job {job.id}'s result was deleted") from None


def _file(job: Job, name: str, media_type: str) -> FileResponse:
    """A result file streamed from the job's folder (raises FileNotFoundError, answered as 410, if it is gone)."""
    path = job.dir / name
    if not path.is_file():
        raise FileNotFoundError(path)
    return FileResponse(path, media_type=media_type, filename=f"{job.id}{path.suffix}")


@router.delete("/jobs/{job_id}", response_model=Deleted | JobStatus, responses=ERRORS)
async def delete_job(request: Request, job_id: str) -> Any:
    """Cancel a queued or running job (its slot is freed), or delete a finished job and its files."""
    st = state_of(request)
    job = _job(request, job_id)
    if job.state in ("queued", "running"):
        st.manager.cancel(job)
        return _job_status(job, st.config.result_ttl_s)
    st.manager.delete(job)
    return Deleted(id=job.id, deleted=True)
