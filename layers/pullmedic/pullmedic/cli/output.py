"""What the CLI prints: -o table|json|yaml, tables that fit the terminal, colour, progress."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TextIO

from pullmedic.core.redact import printable, redact
from pullmedic.core.vocab import Severity

FORMATS = ("table", "json", "yaml")
# Table columns that may be cut (the widest first) when a table is wider than the terminal.
SHRINK_FIRST = ("IMAGE", "WORKLOAD", "REASON", "VALUE", "CONTAINER", "NAMESPACE", "CLUSTER")
# Then columns left out, in order, when cutting is not enough.
DROP_FIRST = ("CONFIDENCE", "PODS", "SINCE", "CONTAINER", "REASON")
MIN_WIDTH = 12
_SEVERITY_COLOUR: dict[str, str] = {Severity.HIGH: "31;1", Severity.MEDIUM: "33", Severity.LOW: "2"}


def shown(text: str) -> str:
    """`text` as it may reach a person: redacted, without control characters, terminal escapes
    or bidi overrides. Every line the CLI prints passes here (or, for a table, each cell
    before it is coloured)."""
    return printable(redact(text))


def say(text: str, stream: TextIO | None = None, end: str = "\n", *, cleaned: bool = False) -> None:
    """Print `text` on stdout (or `stream`); `cleaned`: it went through shown() already."""
    (stream or sys.stdout).write((text if cleaned else shown(text)) + end)


def dump(data: Any, fmt: str) -> str:
    """`data` (JSON-like) as JSON or YAML text ending in a newline."""
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    import yaml  # PyYAML: a requirement of the kubernetes client, so in the layer and every install

    class Dumper(yaml.SafeDumper):
        """The safe dumper, writing the vocabulary's words (StrEnum members) as the strings they are."""

    Dumper.add_multi_representer(StrEnum, lambda dumper, word: dumper.represent_str(str(word)))
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


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
        colour = tty and not env.get("NO_COLOR") and env.get("TERM") != "dumb"
        return cls(width or None, colour)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], term: Terminal,
          severity_column: str | None = "SEVERITY") -> str:
    """A table with two spaces between columns, fitted to the terminal width: the columns of
    SHRINK_FIRST are cut with a '~', then those of DROP_FIRST left out; the severity is
    coloured on a colour terminal."""
    cells = [[shown(cell) for cell in row] for row in rows]
    keep, widths = _layout(headers, cells, term.width)
    lines = []
    for number, row in enumerate([list(headers), *cells]):
        line = [_styled(_cut(row[i], width).ljust(width), row[i], headers[i] == severity_column,
                        number == 0, term.colour) for i, width in zip(keep, widths, strict=True)]
        lines.append("  ".join(line).rstrip())
    return "\n".join(lines)


def _layout(headers: Sequence[str], rows: list[list[str]], limit: int | None) -> tuple[list[int], list[int]]:
    """The columns kept and their widths: all of them fitted if they can be, else without the
    columns of DROP_FIRST one by one; too narrow even so, overflowing."""
    keep = list(range(len(headers)))
    widths = _fit([headers[i] for i in keep], [[r[i] for r in rows] for i in keep], limit)
    for dropped in (h for h in DROP_FIRST if h in headers):
        if widths is not None:
            break
        keep.remove(headers.index(dropped))
        widths = _fit([headers[i] for i in keep], [[r[i] for r in rows] for i in keep], limit)
    return keep, _overflowing(headers, rows, keep) if widths is None else widths


def _overflowing(headers: Sequence[str], rows: list[list[str]], keep: list[int]) -> list[int]:
    """Widths that cut the SHRINK_FIRST columns to their floor and leave the others whole."""
    return [min(_floor(headers[i]), max(len(r[i]) for r in [headers, *rows])) if headers[i]
            in SHRINK_FIRST else max(len(r[i]) for r in [headers, *rows]) for i in keep]


def _styled(text: str, value: str, severity: bool, heading: bool, colour: bool) -> str:
    """A padded cell, bold in the heading and coloured by severity on a colour terminal."""
    if colour and heading:
        return f"\x1b[1m{text}\x1b[0m"
    if colour and severity and value in _SEVERITY_COLOUR:
        return f"\x1b[{_SEVERITY_COLOUR[value]}m{text}\x1b[0m"
    return text


def _fit(headers: list[str], columns: list[list[str]], limit: int | None) -> list[int] | None:
    """Column widths within `limit`, narrowing the widest shrinkable column a character at a
    time (None: they cannot fit)."""
    widths = [max([len(h), *map(len, cells)]) for h, cells in zip(headers, columns, strict=True)]
    if limit is None:
        return widths
    while sum(widths) + 2 * (len(widths) - 1) > limit:
        narrowable = [i for i, h in enumerate(headers) if h in SHRINK_FIRST and widths[i] > _floor(h)]
        if not narrowable:
            return None
        widths[max(narrowable, key=lambda i: widths[i])] -= 1
    return widths


def _floor(header: str) -> int:
    return max(MIN_WIDTH, len(header))


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
            say(f"[{time.monotonic() - self._started:5.1f}s] {text}", self._stream)
            self._stream.flush()


def stderr_progress(quiet: bool) -> Progress:
    """Progress on stderr unless --quiet."""
    return Progress(None if quiet else sys.stderr)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
