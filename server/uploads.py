"""Multipart uploads with limits: parts and fields counted, files written only into the job's folder."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import IO

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from core.face.media import VIDEO_SUFFIXES
from server.errors import ApiError

MAX_FILES = 2
MAX_FIELDS = 12
MAX_FIELD_BYTES = 64 * 1024  # a text field (the transcript is the longest)


def display_name(filename: str | None, default: str) -> str:
    """The client's file name, reduced to a safe base name for messages (never used as a path)."""
    name = re.sub(r"[^\w .,()+-]", "_", Path(filename or "").name)[:100].strip()
    return name or default


def face_suffix(head: bytes, filename: str | None) -> str:
    """``.img`` for a photo, ``.mp4`` for a video, judged from the first bytes (and the name as a hint)."""
    is_container = (
        head[4:8] == b"ftyp"  # MP4 / MOV / M4V
        or head[:4] == b"\x1a\x45\xdf\xa3"  # Matroska / WebM
        or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
        or head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")  # MPEG program / video stream
    )
    if is_container or Path(filename or "").suffix.lower() in VIDEO_SUFFIXES:
        return ".mp4"
    return ".img"


class Form:
    """A parsed multipart body: files (still spooled) and text fields, checked against what a route accepts."""

    def __init__(self, files: dict[str, UploadFile], fields: dict[str, str]) -> None:
        self.files = files
        self.fields = fields

    @classmethod
    async def read(cls, request: Request, files: set[str], fields: set[str]) -> Form:
        ctype = request.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            raise ApiError(415, "unsupported_media_type",
                           f"send multipart/form-data with file parts {sorted(files)}")
        try:
            form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)
        except StarletteHTTPException as exc:
            raise ApiError(400, "bad_multipart", f"the multipart body was refused: {exc.detail}") from exc
        got_files: dict[str, UploadFile] = {}
        got_fields: dict[str, str] = {}
        try:
            for key, value in form.multi_items():
                if key in got_files or key in got_fields:
                    raise ApiError(400, "bad_multipart", f"part {key!r} is given twice")
                if isinstance(value, str):
                    if key not in fields:
                        raise ApiError(400, "bad_multipart", f"unexpected field {key!r} (accepted: {sorted(fields)})")
                    got_fields[key] = value
                else:
                    if key not in files:
                        raise ApiError(400, "bad_multipart", f"unexpected file {key!r} (accepted: {sorted(files)})")
                    got_files[key] = value
        except ApiError:
            await form.close()
            raise
        return cls(got_files, got_fields)

    async def close(self) -> None:
        for f in self.files.values():
            await f.close()

    async def save(self, key: str, folder: Path, stem: str, suffix: str | None = None) -> tuple[Path, str]:
        """Write file part ``key`` to ``folder/stem+suffix``; returns (path, the client's name for messages).

        With ``suffix`` None a face part is sniffed (photo or video).
        """
        upload = self.files[key]
        if suffix is None:
            head = await upload.read(16)
            await upload.seek(0)
            suffix = face_suffix(head, upload.filename)
        dest = folder / f"{stem}{suffix}"
        await asyncio.to_thread(_copy, upload.file, dest)
        return dest, display_name(upload.filename, key)


def _copy(src: IO[bytes], dest: Path) -> None:
    with dest.open("wb") as out:
        shutil.copyfileobj(src, out, length=1024 * 1024)
