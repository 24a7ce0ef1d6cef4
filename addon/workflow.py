"""The server side of each button, without bpy: safe in a worker thread, reused by ``cli.py`` synchronously."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import local_server
from .client import Cancelled, ParleyClient, ServerError, ServerUnavailable, Upload
from .motion import Motion, parse_result

Progress = Callable[[float, str], None]
Stop = Callable[[], bool]
#: Largest file the add-on uploads (the server's default limit is 200 MB too).
MAX_UPLOAD = 200 * 1024 * 1024


def read_upload(path: str, what: str) -> Upload:
    """A file's bytes for upload, with a message for a person when it cannot be used."""
    p = Path(path)
    if not path or not p.is_file():
        raise ValueError(f"choose a {what} file first" if not path else f"the {what} file {path} does not exist")
    size = p.stat().st_size
    if size == 0:
        raise ValueError(f"the {what} file {p.name} is empty")
    if size > MAX_UPLOAD:
        limit = MAX_UPLOAD // 10**6
        raise ValueError(f"the {what} file {p.name} is {size / 1e6:.0f} MB; Parley takes up to {limit} MB")
    return Upload(p.name, p.read_bytes())


def ensure_server(client: ParleyClient, auto_start: bool, executable: str, report: Progress | None = None) -> None:
    """Make sure a ready server answers; start a local one when allowed, else say how to get one.

    Raises:
        ServerUnavailable: none answers and none could be started (the message says what to do).
    """
    status = client.status()
    if status == "ready":
        return
    if status == "not running":
        if not (auto_start and local_server.is_local_url(client.url)):
            raise ServerUnavailable(f"no Parley server answers at {client.url}: press Start Server in the Parley "
                                    "panel, or run `parley serve` in a terminal")
        if report:
            report(0.0, "starting the local server")
        try:
            local_server.start(executable, client.url, client.token or "")
        except FileNotFoundError as exc:
            raise ServerUnavailable(str(exc)) from None
    if report:
        report(0.0, "waiting for the server to load its models")
    local_server.wait_ready(client)


def check_stop(should_stop: Stop) -> None:
    """Raise Cancelled when the animator pressed Cancel (checked between every upload, wait and download)."""
    if should_stop():
        raise Cancelled("cancelled")


def reconstruct(client: ParleyClient, face_path: str, report: Progress, should_stop: Stop) -> dict[str, Any]:
    """Photo/video → {"mesh": GLB bytes, "rig": …, "identity": …, "source": …, "face_path": …}."""
    face = read_upload(face_path, "face")
    check_stop(should_stop)
    report(0.1, "reconstructing the face")
    rec = client.reconstruct(face)
    check_stop(should_stop)  # pressed while the server worked: nothing is built
    rec["mesh"] = base64.b64decode(rec.pop("mesh_glb"))
    rec["face_path"] = str(Path(face_path).resolve())
    return rec


def animate(client: ParleyClient, audio_path: str, face: Upload | None, fps: float, text: str | None,
            report: Progress, should_stop: Stop, articulation: float = 1.0, face_id: str = "",
            motion: dict[str, str] | None = None, language: str = "en") -> Motion:
    """Audio (+ the face, + the line's script ``text`` in ``language``) → the checked result curves. Cancels the
    server job when ``should_stop()`` turns true.

    With ``face_id`` (the server's id of a face it reconstructed) the face is not uploaded or tracked again; when
    the server no longer knows it (restarted, expired), ``face`` is uploaded instead.
    """
    audio = read_upload(audio_path, "audio")
    check_stop(should_stop)
    report(0.02, "uploading")
    job = ""
    if face_id:
        try:
            job = client.submit_animation(audio, None, fps=fps, text=text or None, articulation=articulation,
                                          face_id=face_id, motion=motion, language=language)
        except ServerError as exc:
            if exc.code != "face_not_known":
                raise
    if not job:
        job = client.submit_animation(audio, face, fps=fps, text=text or None, articulation=articulation,
                                      motion=motion, language=language)
    if should_stop():  # pressed during the upload: the job the server just took is cancelled there too
        client.cancel(job)
        raise Cancelled("cancelled")
    client.wait(job, on_progress=lambda f, s: report(0.05 + 0.9 * f, s), should_stop=should_stop)
    report(0.96, "downloading the result")
    data = client.result_npz(job)
    check_stop(should_stop)  # pressed during the download: nothing is written
    m = parse_result(data)
    m.job = job
    return m


def render(client: ParleyClient, animation_job: str, out: str, size: int, report: Progress, should_stop: Stop) -> str:
    """A finished animation's photoreal frames → an MP4 at ``out`` (written whole or not at all); the path.

    Raises:
        ServerError: ``job_not_found`` when the server no longer has the animation (restarted, expired): animate
            again first.
    """
    report(0.01, "starting the render")
    job = client.submit_render(animation_job, size)
    if should_stop():
        client.cancel(job)
        raise Cancelled("cancelled")
    client.wait(job, on_progress=lambda f, s: report(0.02 + 0.95 * f, s), should_stop=should_stop)
    report(0.98, "downloading the video")
    data = client.result_mp4(job)
    check_stop(should_stop)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return str(path)


def motion_fields(head_motion: float = 1.0, blink_rate: float | None = None, gaze: str = "free", brows: bool = True,
                  seed: int = 0) -> dict[str, str]:
    """The animate form's head, blink, gaze, brow and seed fields (blink_rate None: natural)."""
    rate = "natural" if blink_rate is None else repr(float(blink_rate))
    return {"head_motion": repr(float(head_motion)), "blink_rate": rate, "gaze": gaze,
            "brows": "true" if brows else "false", "seed": str(int(seed))}


def message(exc: BaseException) -> str:
    """One line for the animator."""
    if isinstance(exc, ServerError):
        return f"{exc} ({exc.code})"
    return str(exc) or type(exc).__name__
