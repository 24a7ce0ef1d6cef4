"""/v1/live: start a live session (a microphone on this machine, or an uploaded file fed at its real pace), read its
frames as a stream of JSON lines, stop it. One session at a time; the engine is ``core.live``."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from server.errors import ApiError
from server.routes import ERRORS, _face_ref, _multipart, _number, _spontaneous
from server.state import state_of
from server.uploads import Form

router = APIRouter(prefix="/v1")


@dataclass
class Live:
    """The server's one live session (and the causal model, loaded on first use)."""

    net: Any = None
    session: Any = None
    id: str = ""
    folder: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def running(self) -> bool:
        return self.session is not None and self.session.state == "running"

    def end(self) -> None:
        if self.session is not None:
            self.session.stop()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def live_of(request: Request) -> Live:
    st = state_of(request)
    if st.live is None:
        st.live = Live()
    return st.live  # type: ignore[no-any-return]


def _status(live: Live) -> dict[str, Any]:
    s = live.session
    return {"id": live.id, "state": s.state, "frames": s.count, "error": s.error, **live.meta}


@router.post("/live", status_code=201, responses=ERRORS, openapi_extra=_multipart(
    {"audio": "a voice file to play as if spoken into a microphone (at its real pace); without it, the microphone",
     "face": "optional photo or video of the face (default: the built-in portrait)"},
    {"input": {"type": "string", "enum": ["mic", "file"], "default": "mic"},
     "device": {"type": "string", "description": "input device index or name (default: the default input)"},
     "fps": {"type": "number", "default": 30, "minimum": 1, "maximum": 120},
     "face_id": {"type": "string", "description": "a face /v1/reconstruct made (default: the built-in portrait)"},
     "head_motion": {"type": "number", "default": 1, "minimum": 0, "maximum": 2},
     "blink_rate": {"type": "string", "default": "natural", "description": "'natural' or blinks per minute"},
     "gaze": {"type": "string", "enum": ["free", "camera", "off"], "default": "free"},
     "brows": {"type": "boolean", "default": True, "description": "brow raises on pitch accents"},
     "seed": {"type": "integer", "default": 0}}, []))
async def start_live(request: Request) -> JSONResponse:
    """Start the live session: frames at ``GET /v1/live/{id}/stream``, ``DELETE /v1/live/{id}`` stops it."""
    from core.errors import ParleyError

    st = state_of(request)
    models = st.require_ready()
    live = live_of(request)
    if live.running():
        raise ApiError(409, "live_busy", f"live session {live.id} is running: stop it first "
                       f"(DELETE /v1/live/{live.id})")
    form = await Form.read(request, files={"audio", "face"},
                           fields={"input", "device", "fps", "face_id", "head_motion", "blink_rate", "gaze", "brows",
                                   "seed"})
    folder: Path | None = None
    try:
        kind = form.fields.get("input") or ("file" if "audio" in form.files else "mic")
        if kind not in ("mic", "file"):
            raise ApiError(422, "invalid_request", f"input {kind[:20]!r} must be 'mic' or 'file'")
        if kind == "file" and "audio" not in form.files:
            raise ApiError(422, "invalid_request", "input 'file' needs an 'audio' file part")
        fps = _number(form.fields, "fps", 30.0, 1.0, 120.0)
        motion = _spontaneous(form.fields)
        seed = int(_number(form.fields, "seed", 0, 0, 2**31 - 1))
        face: Path | None = _face_ref(st, form.fields.get("face_id"), "face" in form.files)
        device = form.fields.get("device") or None
        audio = None
        if kind == "file" or "face" in form.files:
            folder = st.config.results_dir / f"live_{uuid.uuid4().hex}"
            folder.mkdir(mode=0o700, parents=True)
        if kind == "file" and folder is not None:
            audio, _ = await form.save("audio", folder, "audio", ".bin")
        if "face" in form.files and folder is not None:
            face, _ = await form.save("face", folder, "face")
    finally:
        await form.close()
    try:
        session, net = await asyncio.to_thread(_open, models, live.net, audio, device, fps, motion, seed, face)
    except ParleyError as exc:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise ApiError(422, "live_input", str(exc)) from None
    live.end()
    live.net, live.session, live.id, live.folder = net, session, uuid.uuid4().hex, folder
    live.meta = {"input": kind, "fps": fps, "lookahead_s": net.cfg.lookahead_s}
    return JSONResponse(_status(live), status_code=201, headers={"Location": f"/v1/live/{live.id}/stream"})


def _open(models: Any, net: Any, audio: Path | None, device: str | None, fps: float, motion: dict[str, Any],
          seed: int, face: Path | None) -> tuple[Any, Any]:
    """Load the model (once), the face and the source; start the session. ParleyError for what the user can fix."""
    from core.live.engine import LiveEngine
    from core.live.run import load_live
    from core.live.session import LiveSession
    from core.live.sources import file_blocks, mic_blocks
    from core.reference import Reference, face_reference
    from core.take import Spontaneous

    net = net or load_live()
    ref = Reference.load(face) if face is not None and face.suffix == ".npz" else face_reference(face)
    engine = LiveEngine(net, ref, fps=fps, models=models, spontaneous=Spontaneous(**motion), seed=seed)
    if audio is not None:
        blocks = file_blocks(audio, realtime=True)
    else:
        blocks = mic_blocks(device)
    first = next(blocks, None)  # opens the device (or decodes the file) here, so a failure is this request's answer
    if first is None:
        from core.errors import ParleyError

        raise ParleyError("the audio has no samples")

    def chained() -> Any:
        yield first
        yield from blocks

    return LiveSession(engine, chained()).start(), net


def _session(request: Request, live_id: str) -> Live:
    live = live_of(request)
    if live.session is None or live_id != live.id:
        raise ApiError(404, "live_not_found", f"no live session {live_id[:40]!r}")
    return live


@router.get("/live/{live_id}/stream", responses=ERRORS)
async def live_stream(request: Request, live_id: str, after: int = 0) -> StreamingResponse:
    """The session's frames as JSON lines, as they are made: first ``{"event": "started", ...}``, then one line per
    frame (``frame``, ``t``, ``arkit`` (52), ``pose`` (6), ``blink`` (2)), last ``{"event": <end state>}``."""
    live = _session(request, live_id)
    session = live.session

    async def lines() -> AsyncIterator[bytes]:
        yield (json.dumps({"event": "started", "wall": session.started_wall, **_status(live)}) + "\n").encode()
        nxt = max(0, after)
        while True:
            got = await asyncio.to_thread(session.read, nxt, 0.25)
            if got:
                nxt = got[-1]["frame"] + 1
                yield "".join(json.dumps(f) + "\n" for f in got).encode()
            elif session.state != "running" and session.count <= nxt:
                yield (json.dumps({"event": session.state, "frames": session.count, "error": session.error})
                       + "\n").encode()
                return
            if await request.is_disconnected():
                return

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/live/{live_id}", responses=ERRORS)
async def live_status(request: Request, live_id: str) -> dict[str, Any]:
    """The session's state and frame count."""
    return _status(_session(request, live_id))


@router.delete("/live/{live_id}", responses=ERRORS)
async def stop_live(request: Request, live_id: str) -> dict[str, Any]:
    """Stop the session (its stream then ends with ``{"event": "stopped"}``)."""
    live = _session(request, live_id)
    await asyncio.to_thread(live.end)
    return _status(live)
