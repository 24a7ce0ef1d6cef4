"""Every failure the server reports is JSON ``{error, message}``: the code a program checks, the line a person reads."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from core.errors import (
    AudioDecodeError,
    CheckpointError,
    FaceNotFound,
    FaceTooSmall,
    ImageDecodeError,
    ParleyError,
    TrackerUnavailable,
)

log = logging.getLogger(__name__)

#: core's error classes → the code clients see. All but ``CheckpointError`` are the client's input (422); a
#: checkpoint that cannot be read is the server's own fault (500).
CORE_CODES: dict[type[ParleyError], str] = {
    AudioDecodeError: "audio_decode_error",
    ImageDecodeError: "image_decode_error",
    FaceNotFound: "face_not_found",
    FaceTooSmall: "face_too_small",
    CheckpointError: "checkpoint_error",
    TrackerUnavailable: "tracker_unavailable",
}

_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "too_large",
                 415: "unsupported_media_type", 422: "invalid_request", 503: "unavailable"}


class ApiError(Exception):
    """An error to answer with: HTTP status, code, message, extra headers (e.g. Retry-After)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


#: job error codes that are the server's fault, not the client's input, and their HTTP status
SERVER_FAULTS = {"checkpoint_error": 500, "internal_error": 500, "load_failed": 503, "server_stopped": 503,
                 "timeout": 504}


def error_status(code: str) -> int:
    """HTTP status of a failed job's error code: 422 (the input) unless the fault is the server's."""
    return SERVER_FAULTS.get(code, 422)


def core_error_code(exc: ParleyError) -> str:
    """The client-facing code of a core error (its nearest known class; ``invalid_input`` otherwise)."""
    for cls in type(exc).__mro__:
        if cls in CORE_CODES:
            return CORE_CODES[cls]
    return "invalid_input"


def error_json(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_json(code, message), status_code=status, headers=headers)


async def send_error(send: Send, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
    """Answer from raw ASGI (middleware), before the app has read anything."""
    body = json.dumps(error_json(code, message)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "the request is not valid"


def install_handlers(app: FastAPI) -> None:
    """Route every exception class to a JSON body; only a bug in Parley can give a 500."""

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error")
        return error_response(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "invalid_request", _validation_message(exc))

    async def core_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ParleyError)
        code = core_error_code(exc)
        return error_response(error_status(code), code, str(exc))

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "internal_error", f"Parley hit a bug ({type(exc).__name__}); see the server log")

    handlers: dict[Any, Any] = {ApiError: api_error, StarletteHTTPException: http_error,
                                RequestValidationError: validation_error, ParleyError: core_error,
                                Exception: unexpected}
    for cls, fn in handlers.items():
        app.add_exception_handler(cls, fn)
