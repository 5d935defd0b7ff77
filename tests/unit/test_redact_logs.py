"""Log lines are redacted as JSON text and stay valid JSON."""

from __future__ import annotations

import json

from pullmedic.core.redact import redact_tree, redacted_json

MESSAGE = ('failed to do request: Get "https://robot:hunter2pass@registry.example.com/v2/a/blobs/'
           'sha256:d015?X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLETOKEN&X-Amz-Signature=0123abcd": '
           "context canceled; Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyb2JvdCJ9.c2ln")
SECRETS = ("hunter2pass", "FwoGZXIvYXdzEXAMPLETOKEN", "0123abcd", "eyJhbGciOiJSUzI1NiJ9")


def test_redacted_json_is_valid_and_clean() -> None:
    line = redacted_json({"message": "scan finished", "detail": {"events": [MESSAGE]},
                          "quoted": f'"{MESSAGE}"\\'})
    parsed = json.loads(line)
    assert parsed["detail"]["events"][0].startswith("failed to do request: Get \"https://[REDACTED]@")
    assert not any(secret in line for secret in SECRETS)


def test_redact_tree_reaches_nested_strings_only() -> None:
    cleaned = redact_tree({"a": [MESSAGE, 3, None, {"b": (MESSAGE,)}], "n": 1.5, "ok": True})
    assert not any(secret in json.dumps(cleaned) for secret in SECRETS)
    assert (cleaned["n"], cleaned["ok"], cleaned["a"][1:3]) == (1.5, True, [3, None])
