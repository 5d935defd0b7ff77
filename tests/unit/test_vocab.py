"""The vocabulary's words are the documents' words: each enum holds exactly the values its JSON
schema allows, and a member is written as the plain string in JSON and YAML."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
import yaml

from pullmedic.announcing.render import load_schema
from pullmedic.cli.output import dump
from pullmedic.core.vocab import Confidence, Event, MessageSource, Severity, VerdictStatus

FINDING = load_schema("findings")["$defs"]


@pytest.mark.parametrize(("vocabulary", "allowed"), [
    (Confidence, FINDING["finding"]["properties"]["confidence"]["enum"]),
    (Severity, FINDING["finding"]["properties"]["severity"]["enum"]),
    (MessageSource, FINDING["finding"]["properties"]["message_source"]["enum"]),
    (VerdictStatus, FINDING["evidence_item"]["properties"]["status"]["enum"]),
    (Event, FINDING["announcement"]["properties"]["event"]["enum"]),
], ids=lambda v: getattr(v, "__name__", ""))
def test_the_enum_is_the_schemas(vocabulary: type[StrEnum], allowed: list[str]) -> None:
    assert sorted(vocabulary) == sorted(allowed)


def test_a_member_is_written_as_its_word() -> None:
    doc = {"severity": Severity.HIGH, "events": [Event.NEW], Event.RESOLVED: Confidence.LIKELY}
    plain = {"severity": "high", "events": ["new"], "resolved": "likely"}
    assert json.loads(dump(doc, "json")) == plain
    assert yaml.safe_load(dump(doc, "yaml")) == plain
    assert "!!python" not in dump(doc, "yaml")
