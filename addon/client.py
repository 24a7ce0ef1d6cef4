"""HTTP client for ``parley serve``, standard library only (Blender's Python has no httpx; no torch, no bpy).

Safe to call from a worker thread: it touches no Blender data. Every failure becomes one of two
exceptions whose message is meant for the animator: ``ServerUnavailable`` (nothing answers, or it
is not ready) and ``ServerError`` (the server refused or failed the request; ``code`` is its error code).
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8765"


class ServerUnavailable(Exception):
    """No Parley server answers at the URL (not started, wrong port, still loading)."""


class ServerError(Exception):
    """The server answered with an error: ``code`` (e.g. ``face_not_found``) and a message for a person."""

    def __init__(self, code: str, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.code, self.status = code, status


class Cancelled(Exception):
    """The caller asked to stop waiting; the job was cancelled on the server."""


@dataclass
class Upload:
    """A file part: the client's file name (shown in messages) and its bytes."""

    name: str
    data: bytes


def encode_multipart(files: dict[str, Upload], fields: dict[str, str]) -> tuple[bytes, str]:
    """multipart/form-data body and its content type."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for key, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for key, up in files.items():
        safe = up.name.replace('"', "_").replace("\r", "_").replace("\n", "_")
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{safe}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n".encode())
        out.write(up.data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


class ParleyClient:
    """Talks to one server. ``token`` is sent as a bearer token when set."""

    def __init__(self, url: str = DEFAULT_URL, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.token = token or None
        self.timeout = timeout

    def _request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                 timeout: float | None = None) -> tuple[int, bytes, str]:
        req = urllib.request.Request(self.url + path, data=body, method=method)
        if content_type:
            req.add_header("Content-Type", content_type)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as r:
                return r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                err = json.loads(raw)
                code, message = str(err["error"]), str(err["message"])
            except (ValueError, KeyError, TypeError):
                code, message = "http_error", f"the server answered {exc.code} {exc.reason}"
            if exc.code == 503 and code in ("not_ready", "shutting_down"):
                raise ServerUnavailable(message) from None
            raise ServerError(code, message, exc.code) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnavailable(f"no Parley server answers at {self.url} ({reason})") from None

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        _, raw, _ = self._request(method, path, **kw)
        return json.loads(raw)

    def health(self) -> bool:
        """True when a server process answers (models may still be loading)."""
        try:
            self._json("GET", "/v1/health", timeout=2.0)
        except (ServerUnavailable, ServerError):
            return False
        return True

    def status(self) -> str:
        """"not running", "loading", "ready", or the server's reason (e.g. models failed to load)."""
        try:
            self._json("GET", "/v1/ready", timeout=2.0)
        except ServerUnavailable as exc:
            return "loading" if self.health() else "not running" if "no Parley server" in str(exc) else str(exc)
        except ServerError as exc:
            return str(exc)
        return "ready"

    def reconstruct(self, face: Upload) -> dict[str, Any]:
        """Photo or video → mesh (base64 GLB), identity landmarks and the shape-key rig."""
        body, ctype = encode_multipart({"face": face}, {})
        return dict(self._json("POST", "/v1/reconstruct", body=body, content_type=ctype, timeout=600))

    def submit_animation(self, audio: Upload, face: Upload | None = None, fps: float = 30.0,
                         text: str | None = None, articulation: float = 1.0,
                         face_id: str | None = None, motion: dict[str, str] | None = None,
                         language: str = "en") -> str:
        """Start an animation job; returns its id. ``text`` is the line's script (in ``language``); ``face_id`` (from
        ``reconstruct``) instead of ``face`` reuses a face the server already tracked; ``motion`` holds the
        head/blink/gaze/brow/seed form fields."""
        files = {"audio": audio, **({"face": face} if face else {})}
        fields = {"fps": repr(float(fps)), "articulation": repr(float(articulation))}
        fields.update({"text": text, "language": language} if text else {})
        fields.update({"face_id": face_id} if face_id and not face else {})
        fields.update(motion or {})
        body, ctype = encode_multipart(files, fields)
        return str(self._json("POST", "/v1/animate", body=body, content_type=ctype, timeout=300)["id"])

    def submit_render(self, animation_job: str, size: int = 512) -> str:
        """Start a photoreal render of a finished animation job, with the face and audio it was made from; returns
        the render job's id."""
        body, ctype = encode_multipart({}, {"job_id": animation_job, "size": str(int(size))})
        return str(self._json("POST", "/v1/render", body=body, content_type=ctype, timeout=300)["id"])

    def result_mp4(self, job_id: str) -> bytes:
        _, raw, _ = self._request("GET", f"/v1/jobs/{job_id}/result?format=mp4", timeout=600)
        return raw

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/v1/jobs/{job_id}"))

    def cancel(self, job_id: str) -> None:
        self._json("DELETE", f"/v1/jobs/{job_id}")

    def result_npz(self, job_id: str, landmarks: bool = False) -> bytes:
        """The result NPZ; without the landmarks (T × 468 × 3) unless asked: Blender keys curves, not points."""
        query = "format=npz" + ("" if landmarks else "&landmarks=false")
        _, raw, _ = self._request("GET", f"/v1/jobs/{job_id}/result?{query}", timeout=300)
        return raw

    def start_live(self, audio: Upload | None = None, fps: float = 30.0, face_id: str | None = None,
                   device: str | None = None, motion: dict[str, str] | None = None,
                   face: Upload | None = None) -> dict[str, Any]:
        """Start the server's live session: the microphone on the server's machine, or ``audio`` played at its real
        pace as if spoken into one; ``motion`` the head/blink/gaze/brow/seed fields, as Animate sends them. Returns
        its status (``id``, ``fps``, ``lookahead_s``)."""
        fields = {"fps": repr(float(fps)), "input": "file" if audio else "mic", **(motion or {})}
        fields.update({"face_id": face_id} if face_id and not face else {})
        fields.update({"device": device} if device else {})
        files = {**({"audio": audio} if audio else {}), **({"face": face} if face else {})}
        body, ctype = encode_multipart(files, fields)
        return dict(self._json("POST", "/v1/live", body=body, content_type=ctype, timeout=60))

    def live_lines(self, live_id: str) -> Iterator[dict[str, Any]]:
        """The live session's stream, one parsed JSON line at a time, as the server writes them (blocking)."""
        req = urllib.request.Request(f"{self.url}/v1/live/{live_id}/stream")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=10.0) as r:
                for line in r:
                    if line.strip():
                        yield json.loads(line)
        except urllib.error.HTTPError as exc:
            raise ServerError("live_stream", f"the server answered {exc.code} {exc.reason}", exc.code) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            raise ServerUnavailable(f"the live stream from {self.url} broke off ({exc})") from None

    def stop_live(self, live_id: str) -> dict[str, Any]:
        return dict(self._json("DELETE", f"/v1/live/{live_id}", timeout=10))

    def wait(self, job_id: str, on_progress: Callable[[float, str], None] | None = None,
             should_stop: Callable[[], bool] | None = None, poll: float = 0.2) -> dict[str, Any]:
        """Poll until the job ends; cancel it (and raise Cancelled) when ``should_stop()`` turns true.

        Raises:
            ServerError: the job failed (its code and message) or was cancelled elsewhere.
        """
        while True:
            if should_stop is not None and should_stop():
                self.cancel(job_id)
                raise Cancelled("cancelled")
            s = self.job(job_id)
            if on_progress is not None:
                on_progress(float(s["progress"]), str(s["stage"]))
            if s["state"] == "done":
                return s
            if s["state"] == "failed":
                err = s.get("error") or {}
                raise ServerError(str(err.get("error", "failed")), str(err.get("message", "the job failed")))
            if s["state"] == "cancelled":
                raise ServerError("job_cancelled", "the job was cancelled")
            time.sleep(poll)
