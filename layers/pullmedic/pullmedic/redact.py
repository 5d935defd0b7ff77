"""Remove secrets from text before it is logged, published or shown (pure)."""

from __future__ import annotations

import json
import re
from typing import Any

_MASK = "[REDACTED]"
# No pattern consumes a quote or a backslash, so redacting JSON text keeps it valid JSON.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Presigned URL signatures, credentials and session tokens (SigV4 query auth).
    (re.compile(r"(?i)(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s\"'\\]+"), rf"\1{_MASK}"),
    # user:password@ in URLs.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@\"'\\]+:[^/\s@\"'\\]+@"), rf"\1{_MASK}@"),
    # Authorization headers and bearer tokens, including EKS tokens.
    (re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {_MASK}"),
    (re.compile(r"k8s-aws-v1\.[A-Za-z0-9_-]+"), f"k8s-aws-v1.{_MASK}"),
)


def redact(text: str) -> str:
    """`text` with signatures, tokens and URL credentials replaced by [REDACTED]."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_tree(value: Any) -> Any:
    """`value` (JSON-like: dicts, lists, strings, numbers) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_tree(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_tree(item) for item in value]
    return value


def redacted_json(value: Any) -> str:
    """Compact JSON of `value` (anything else as str), redacted: a log serializer."""
    return redact(json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False))
