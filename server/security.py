"""The guard in front of every route: Host allowlist, Origin check, bearer token, body size limit.

Pure ASGI so that it answers before FastAPI reads a byte of the body: a browser page on another
site (or a DNS-rebinding name) gets 400/403, a missing token 401, an oversized upload 413.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.config import ServerConfig
from server.errors import ApiError, send_error

#: Routes open without a token (liveness only: it says nothing about the models or jobs).
OPEN_PATHS = frozenset({"/v1/health"})


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        mb = limit / (1024 * 1024)
        super().__init__(413, "too_large", f"the request body is over the server's {mb:g} MB limit (--max-upload-mb)")


def host_name(value: str) -> str:
    """The name part of a Host header or URL authority, lower case, without port or IPv6 brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_port(value: str, scheme: str = "http") -> int | None:
    """The port of a Host header or URL authority (the scheme's default when none is written); None if unreadable."""
    value = value.strip().lower()
    rest = value[value.find("]") + 1 :] if value.startswith("[") else (value if value.count(":") == 1 else "")
    if ":" in rest:
        port = rest.rsplit(":", 1)[1]
        return int(port) if port.isdigit() else None
    return {"http": 80, "https": 443}.get(scheme)


def same_origin(origin: str, host_header: str, scheme: str, hosts: frozenset[str] | set[str]) -> bool:
    """Is ``origin`` this server itself: the scheme it is served on, an allowed host name, and the port the request
    came to? A page on ``http://localhost:3000`` is another site to a server on ``localhost:8765``."""
    parts = urlsplit(origin.strip())
    if origin.strip().lower() == "null" or parts.scheme != scheme or host_name(parts.netloc) not in hosts:
        return False
    return host_port(parts.netloc, parts.scheme) == host_port(host_header, scheme)


class Guard:
    """ASGI middleware enforcing the checks above, in that order."""

    def __init__(self, app: ASGIApp, config: ServerConfig) -> None:
        self.app = app
        self.config = config
        self.hosts = config.allowed_hosts()
        self.token = config.token.encode() if config.token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        problem = self._check(scope, headers)
        if problem is not None:
            await send_error(send, problem.status, problem.code, problem.message, problem.headers)
            return
        limit = self.config.max_upload_bytes
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge as exc:  # raised outside a route (the app normally answers it itself)
            if not started:
                await send_error(send, exc.status, exc.code, exc.message)

    def _check(self, scope: Scope, headers: dict[str, str]) -> ApiError | None:
        host = host_name(headers.get("host", ""))
        if host not in self.hosts:
            return ApiError(400, "bad_host", f"Host {headers.get('host', '(none)')!r} is not served here "
                            "(allowed: localhost, 127.0.0.1, --allow-host names)")
        origin = headers.get("origin")
        if origin is not None and not same_origin(origin, headers.get("host", ""), scope.get("scheme", "http"),
                                                  self.hosts):
            return ApiError(403, "forbidden_origin", f"requests from web pages at {origin!r} are refused")
        if headers.get("sec-fetch-site") == "cross-site":
            return ApiError(403, "forbidden_origin", "cross-site requests from web pages are refused")
        if self.token is not None and scope.get("path") not in OPEN_PATHS:
            auth = headers.get("authorization", "")
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token):
                return ApiError(401, "unauthorized", "a valid 'Authorization: Bearer <token>' header is needed",
                                {"WWW-Authenticate": "Bearer"})
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return ApiError(400, "bad_request", f"Content-Length {length!r} is not a number")
            if int(length) > self.config.max_upload_bytes:
                return BodyTooLarge(self.config.max_upload_bytes)
        return None
