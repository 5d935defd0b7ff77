"""Terminal escapes, control, bidi and zero-width characters never reach a person: not in the
email text, the chat notification or what the CLI prints."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from factories import ecr_finding as finding

from pullmedic.announcing.chat import notification
from pullmedic.announcing.render import text
from pullmedic.cli.output import say
from pullmedic.core.model import Announcement, Evidence, ScanError
from pullmedic.core.redact import printable

HOSTILE = {
    "colour": "\x1b[31;1mRED\x1b[0m",
    "clear screen": "\x1b[2J\x1b[H",
    "cursor up and erase": "\x1b[1A\x1b[2K",
    "window title (OSC, BEL)": "\x1b]0;pwned\x07",
    "hyperlink (OSC 8, ST)": "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "lone escape": "\x1b",
    "8-bit CSI": "\x9b31m",
    "NUL, BEL, backspace, DEL": "\x00\x07\x08\x7f",
    "carriage return overwrite": "safe\rEVIL",
    "vertical tab and form feed": "\x0b\x0c",
    "right-to-left override": "\u202eexe.txt",
    "bidi isolates": "\u2066\u2067\u2068\u2069",
    "zero-width": "ad\u200bmin\u200c\u200d\u2060\ufeff",
    "Arabic letter mark, LRM, RLM": "\u061c\u200e\u200f",
    "line separators": "one\u2028two\u2029three",
}
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_printable_removes_the_hazard_and_keeps_the_words(hostile: str) -> None:
    for multiline in (True, False):
        cleaned = printable(f"before {hostile} after", multiline)
        assert not FORBIDDEN.search(cleaned), repr(cleaned)
        assert cleaned.startswith("before ") and cleaned.endswith(" after")
    assert "pwned" not in printable(HOSTILE["window title (OSC, BEL)"])
    assert printable("ad\u200bmin") == "admin"


def test_multiline_text_keeps_its_lines_and_tabs_one_line_text_does_not() -> None:
    assert printable("a\n\tb\r\nc") == "a\n\tb\nc"
    assert printable("a\n\tb\r\nc", multiline=False) == "a b c"


def test_plain_text_is_unchanged() -> None:
    plain = "Failed to pull image \"nginx:1.27\": not found — ünïcode ok, 日本語 ok\n\tindented"
    assert printable(plain) == plain


def hostile_finding() -> Any:
    bad = "".join(HOSTILE.values())
    return replace(finding(), message=f"pull failed {bad} end", evidence=(f"evidence {bad}",),
                   evidence_items=(Evidence("pull_secrets", "confirmed", f"evidence {bad}"),),
                   fix_commands=(f"kubectl {bad}",), advice=f"advice {bad}",
                   pods=(f"api-7f9c-a{HOSTILE['colour']}",))


def test_email_text_has_no_hazard() -> None:
    body = text([Announcement("new", hostile_finding())],
                [ScanError("dev", "token", "cannot read \x1b]0;t\x07 \u202e")])
    assert not FORBIDDEN.search(body), repr(body)
    assert "pull failed" in body and "\n   Evidence:  confirmed [pull_secrets]: evidence" in body
    assert all(line.startswith(("pullmedic:", "EKS", "Kube", "#", "1.", "   ", "Without", "  {", "Could",
                                "  -"))
               for line in body.splitlines() if line), body  # no line broken by what it quotes


def test_chat_notification_fields_have_no_hazard() -> None:
    message = notification([Announcement("new", hostile_finding())],
                           [ScanError("dev\u202e", "token", "x")])
    strings = list(_strings(message))
    assert [s for s in strings if FORBIDDEN.search(s)] == []
    description = message["content"]["description"]
    assert "\n" in description and "pull failed" in description


def test_cli_prints_no_hazard_and_no_secret(capsys: pytest.CaptureFixture[str]) -> None:
    say(f"image {HOSTILE['colour']} from https://robot:hunter2pass@registry.example.com\n\tnext")
    out = capsys.readouterr().out
    assert out == "image RED from https://[REDACTED]@registry.example.com\n\tnext\n"


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
