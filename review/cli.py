"""``parley preview RESULT.npz [--face F] [--audio A] [--screenshot PNG]``."""

from __future__ import annotations

import argparse
import os
import sys


def cmd_preview(args: argparse.Namespace) -> int:
    from core.errors import ParleyError
    from review.model import load_take

    take = load_take(args.result, args.face, args.audio)
    if not getattr(args, "verbose", False):  # Qt's multimedia and platform plug-ins narrate their start-up
        os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false;qt.qpa*=false")
    try:
        from review import window
    except ImportError as exc:  # PyQt6 missing, or no Qt platform libraries
        raise ParleyError(f"parley preview needs PyQt6 (pip install 'parley[preview]'): {exc}") from exc
    from core.face.reconstruct import reconstruct
    from core.reference import DEMO_FACE

    if take.missing_face:
        print(f"parley preview: this result's face ({take.missing_face}) is not on this machine: showing the built-in "
              "portrait, and exports are refused (give --face)", file=sys.stderr)
    head = reconstruct(take.face or DEMO_FACE).full_head()
    rc = window.run(take, head, args.screenshot, args.at, quiet=not getattr(args, "verbose", False))
    if args.screenshot and rc == 0:
        print(f"{args.result} → {args.screenshot}")
    return rc


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("preview", help="review a result in a window: the head with the sound, scrubber, curves, "
                       "export")
    p.add_argument("result", help="a result .npz from parley animate or parley batch")
    p.add_argument("--face", help="the photo or video (default: the one the result was made with; when that is not "
                   "here, the portrait is shown and exports are refused)")
    p.add_argument("--audio", help="the audio (default: the one the result was made with, if it is still there)")
    p.add_argument("--screenshot", help="render the window off-screen to this PNG and exit (no display needed with "
                   "QT_QPA_PLATFORM=offscreen)")
    p.add_argument("--at", type=float, help="with --screenshot: the time shown, in seconds (default a third in)")
    p.set_defaults(func=cmd_preview)
