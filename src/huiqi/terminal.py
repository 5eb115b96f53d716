"""How the commands write to standard output: the width they lay their tables out at, and their JSON.

A terminal gives its width (Rich asks it), as does ``$COLUMNS``; output piped or redirected to a file with
neither is laid out 160 wide, not Rich's 80, so that a table saved with ``> result.txt`` keeps fact keys and
rule names whole on fewer lines.

JSON (``--format json``) is written by orjson, indented by two spaces, Chinese as it is: the stdlib's encoder
took 1.35 ms for one entity's evaluation against all the documents (156 KB), orjson 0.09 ms.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import orjson
from rich.console import Console

#: The width of output that goes to no terminal when ``$COLUMNS`` is not set.
PIPED_WIDTH = 160


def output_width() -> int | None:
    """``None`` (Rich finds the terminal's width or reads ``$COLUMNS``) or :data:`PIPED_WIDTH`."""
    return None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH


def output_console(**options: Any) -> Console:
    """A console on standard output at :func:`output_width` (``options`` as for ``rich.console.Console``)."""
    return Console(width=output_width(), **options)


def write_json(data: Any) -> None:
    """``data`` as JSON on standard output, indented by two spaces, with a final newline."""
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")
