"""The ``parley`` command: core's subcommands plus ``serve`` (core itself never imports HTTP code)."""

from __future__ import annotations

import sys

from core.cli import main as core_main
from server.run import add_parser


def main(argv: list[str] | None = None) -> int:
    return core_main(argv, extend=add_parser)


if __name__ == "__main__":
    sys.exit(main())
