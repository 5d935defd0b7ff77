"""What the CLI prints: -o table|json|yaml, tables that fit the terminal, colour, progress."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

FORMATS = ("table", "json", "yaml")
# Table columns that give way first, in order, when a table is wider than the terminal.
SHRINK_FIRST = ("IMAGE", "WORKLOAD", "REASON", "VALUE", "CONTAINER", "NAMESPACE", "CLUSTER")
MIN_WIDTH = 8
_SEVERITY_COLOUR = {"high": "31;1", "medium": "33", "low": "2"}


def dump(data: Any, fmt: str) -> str:
    """`data` (JSON-like) as JSON or YAML text ending in a newline."""
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        import yaml  # PyYAML: shipped with the kubernetes client, which needs it
    except ImportError:  # pragma: no cover - kubernetes requires PyYAML
        raise ValueError("-o yaml needs PyYAML (pip install PyYAML); use -o json") from None
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


@dataclass(frozen=True)
class Terminal:
    """Where the human-readable output goes, and what it can show."""

    width: int | None  # None: no limit (not a terminal, or unknown)
    colour: bool

    @classmethod
    def of(cls, stream: TextIO, env: dict[str, str] | None = None) -> Terminal:
        """The stream's width and colour: a terminal gets both unless NO_COLOR or TERM=dumb;
        COLUMNS, when set, is the width even through a pipe."""
        env = dict(os.environ) if env is None else env
        tty = _isatty(stream)
        width = int(env["COLUMNS"]) if env.get("COLUMNS", "").isdigit() else None
        if width is None and tty:
            width = os.get_terminal_size(stream.fileno()).columns
        colour = tty and "NO_COLOR" not in env and env.get("TERM") != "dumb"
        return cls(width or None, colour)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], term: Terminal,
          severity_column: str | None = "SEVERITY") -> str:
    """A table with two spaces between columns, shrunk to the terminal width (the columns of
    SHRINK_FIRST are cut with a '~'), the severity coloured on a colour terminal."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    if term.width:
        _fit(list(headers), widths, term.width)
    coloured = headers.index(severity_column) if severity_column in headers else None
    lines = []
    for number, row in enumerate([list(headers), *map(list, rows)]):
        cells = []
        for i, (cell, width) in enumerate(zip(row, widths, strict=True)):
            text = _cut(cell, width).ljust(width)
            if term.colour and number == 0:
                text = f"\x1b[1m{text}\x1b[0m"
            elif term.colour and i == coloured and cell in _SEVERITY_COLOUR:
                text = f"\x1b[{_SEVERITY_COLOUR[cell]}m{text}\x1b[0m"
            cells.append(text)
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _fit(headers: list[str], widths: list[int], limit: int) -> None:
    """Narrow the shrinkable columns, widest first, until the row fits `limit` (or cannot)."""
    shrinkable = [headers.index(h) for h in SHRINK_FIRST if h in headers]
    while sum(widths) + 2 * (len(widths) - 1) > limit:
        over = sum(widths) + 2 * (len(widths) - 1) - limit
        candidates = [i for i in shrinkable if widths[i] > max(MIN_WIDTH, len(headers[i]))]
        if not candidates:
            return
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] = max(MIN_WIDTH, len(headers[widest]), widths[widest] - over)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


class Progress:
    """One line per step on stderr (never on stdout, so -o json stays parseable)."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._started = time.monotonic()

    def say(self, text: str) -> None:
        """Print a step, with the seconds since the start."""
        if self._stream is not None:
            self._stream.write(f"[{time.monotonic() - self._started:5.1f}s] {text}\n")
            self._stream.flush()


def stderr_progress(quiet: bool) -> Progress:
    """Progress on stderr unless --quiet."""
    return Progress(None if quiet else sys.stderr)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
