"""OSC 1.0 out: one bundle per frame, one message per ARKit shape addressed by its name (``/jawOpen 0.42``), as
face-capture apps send them, plus ``/head`` (pitch, yaw, roll in radians, x, y, z in metres) and ``/frame``
(index, audio time in s). ``parse`` reads a packet back (the tests, and anyone checking what was sent)."""

from __future__ import annotations

import socket
import struct
import time
from typing import Any

from core.errors import ParleyError

#: Seconds between the NTP epoch (1900) and the Unix epoch (1970), for OSC time tags.
NTP_OFFSET = 2_208_988_800


def _string(s: str) -> bytes:
    b = s.encode("ascii") + b"\0"
    return b + b"\0" * (-len(b) % 4)


def message(address: str, *args: float | int) -> bytes:
    """One OSC message: floats as 'f' (float32), ints as 'i' (int32), big-endian."""
    tags = "," + "".join("i" if isinstance(a, int) and not isinstance(a, bool) else "f" for a in args)
    body = b"".join(struct.pack(">i", a) if t == "i" else struct.pack(">f", float(a)) for a, t in zip(args, tags[1:],
                                                                                                        strict=True))
    return _string(address) + _string(tags) + body


def bundle(messages: list[bytes], when: float | None = None) -> bytes:
    """An OSC bundle of ``messages`` with a time tag (``when``: Unix seconds; None: 'immediately')."""
    if when is None:
        tag = struct.pack(">Q", 1)
    else:
        secs = int(when) + NTP_OFFSET
        tag = struct.pack(">II", secs, int((when % 1.0) * 2**32))
    return b"#bundle\0" + tag + b"".join(struct.pack(">i", len(m)) + m for m in messages)


def frame_bundle(frame: int, t: float, names: tuple[str, ...], arkit: Any, pose: Any) -> bytes:
    """One frame as one bundle: ``/frame``, ``/head`` and one ``/<ARKit name>`` per shape."""
    msgs = [message("/frame", int(frame), float(t)), message("/head", *(float(x) for x in pose))]
    msgs += [message("/" + n, float(w)) for n, w in zip(names, arkit, strict=True)]
    return bundle(msgs, time.time())


def _read_string(data: bytes, i: int) -> tuple[str, int]:
    end = data.index(b"\0", i)
    return data[i:end].decode("ascii"), end + 1 + (-(end + 1 - i) % 4)


def parse(data: bytes) -> list[tuple[str, list[float | int]]]:
    """A packet (message or bundle, nested) → [(address, arguments)], in order."""
    if data.startswith(b"#bundle\0"):
        out: list[tuple[str, list[float | int]]] = []
        i = 16
        while i < len(data):
            (size,) = struct.unpack_from(">i", data, i)
            out += parse(data[i + 4 : i + 4 + size])
            i += 4 + size
        return out
    address, i = _read_string(data, 0)
    tags, i = _read_string(data, i)
    args: list[float | int] = []
    for t in tags[1:]:
        if t == "f":
            args.append(struct.unpack_from(">f", data, i)[0])
        elif t == "i":
            args.append(struct.unpack_from(">i", data, i)[0])
        else:
            raise ValueError(f"OSC type tag {t!r} is not one Parley sends")
        i += 4
    return [(address, args)]


class OscSender:
    """UDP to HOST:PORT. Raises ParleyError for a malformed address or a host that does not resolve."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ParleyError(f"--osc {target!r}: give HOST:PORT, e.g. 127.0.0.1:9000")
        try:
            info = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)[0]
        except OSError as exc:
            raise ParleyError(f"--osc {target}: cannot resolve {host!r} ({exc})") from exc
        self.address = info[4]
        self.sock = socket.socket(info[0], socket.SOCK_DGRAM)

    def send(self, packet: bytes) -> None:
        try:
            self.sock.sendto(packet, self.address)
        except OSError:  # nobody listening (ICMP refused) or the network hiccuped: OSC is fire-and-forget
            pass

    def close(self) -> None:
        self.sock.close()
