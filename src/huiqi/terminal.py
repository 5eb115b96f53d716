"""The width the commands lay their tables out at: one rule for every command that prints a table.

A terminal gives its width (Rich asks it), as does ``$COLUMNS``; output piped or redirected to a file with
neither is laid out 160 wide, not Rich's 80, so that a table saved with ``> result.txt`` keeps fact keys and
rule names whole on fewer lines.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console

#: The width of output that goes to no terminal when ``$COLUMNS`` is not set.
PIPED_WIDTH = 160


def output_width() -> int | None:
    """``None`` (Rich finds the terminal's width or reads ``$COLUMNS``) or :data:`PIPED_WIDTH`."""
    return None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH


def output_console(**options: Any) -> Console:
    """A console on standard output at :func:`output_width` (``options`` as for ``rich.console.Console``)."""
    return Console(width=output_width(), **options)
