"""OSC packets as Parley sends them, parsed back; and one sent over UDP to a socket here."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from core.errors import ParleyError
from core.face.arkit import ARKIT_NAMES
from core.live.osc import OscSender, bundle, frame_bundle, message, parse


def test_a_message_round_trips_with_padding() -> None:
    m = message("/jawOpen", 0.25)
    assert len(m) % 4 == 0
    assert parse(m) == [("/jawOpen", [0.25])]
    assert parse(message("/frame", 7, 0.5)) == [("/frame", [7, 0.5])]


def test_a_frame_is_one_bundle_with_every_arkit_name() -> None:
    arkit = np.linspace(0, 1, 52, dtype=np.float32)
    pose = np.array([0.1, -0.2, 0.05, 0.001, 0.0, -0.002], np.float32)
    packet = frame_bundle(12, 0.4333, tuple(ARKIT_NAMES), arkit, pose)
    assert packet.startswith(b"#bundle\0")
    got = parse(packet)
    assert got[0] == ("/frame", [12, pytest.approx(0.4333, abs=1e-6)])
    assert got[1][0] == "/head" and np.allclose(got[1][1], pose, atol=1e-6)
    assert [a for a, _ in got[2:]] == ["/" + n for n in ARKIT_NAMES]
    assert np.allclose([v[0] for _, v in got[2:]], arkit, atol=1e-6)


def test_nested_bundles_are_read_in_order() -> None:
    inner = bundle([message("/a", 1.0)])
    assert parse(bundle([inner, message("/b", 2)])) == [("/a", [1.0]), ("/b", [2])]


def test_sender_delivers_over_udp() -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5)
    port = rx.getsockname()[1]
    tx = OscSender(f"127.0.0.1:{port}")
    tx.send(bundle([message("/jawOpen", 0.5)]))
    data, _ = rx.recvfrom(65536)
    tx.close()
    rx.close()
    assert parse(data) == [("/jawOpen", [0.5])]


@pytest.mark.parametrize("bad", ["nowhere", "host:", ":9000", "127.0.0.1:70000", "127.0.0.1:x"])
def test_a_bad_target_is_one_clear_error(bad: str) -> None:
    with pytest.raises(ParleyError, match="HOST:PORT"):
        OscSender(bad)
