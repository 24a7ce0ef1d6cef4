"""The ``parley`` command: core's subcommands plus ``serve`` and ``preview`` (core itself never imports HTTP or
UI code)."""

from __future__ import annotations

import argparse

from core.cli import leave
from core.cli import main as core_main
from server.run import add_parser


def _extend(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from review.cli import add_parser as add_preview

    add_parser(sub)
    add_preview(sub)


def main(argv: list[str] | None = None) -> int:
    return core_main(argv, extend=_extend)


def run() -> None:
    """The ``parley`` command: ``main`` with the process's arguments, then a quick exit (``core.cli.leave``)."""
    leave(main())


if __name__ == "__main__":
    run()
