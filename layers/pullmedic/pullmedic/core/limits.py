"""The bounds on what pullmedic keeps of what it reads (pure).

Every string that comes from a cluster or a registry is cut when it is read, so that every
state item, SNS message, Step Functions state and Lambda response stays under its service's
limit whatever a pod holds. A cut string says how long it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from pullmedic.core.redact import printable, redact

MESSAGE_MAX = 4096  # a failure message (a kubelet or runtime error is rarely over 1 KB)
IMAGE_MAX = 1024  # an image reference (name 255 + tag 128 + digest 71 is the longest valid one)
NAME_MAX = 253  # a Kubernetes object name, namespace, container, node or label value
ERROR_MAX = 1024  # a scan error's message
EVIDENCE_LINE_MAX = 600  # one evidence line
COMMAND_MAX = 2048  # one fix command (a cut command fails when pasted: room for a policy merge)
EVIDENCE_LINES_MAX = 25  # evidence lines (and fix commands) of one finding
FINDINGS_PER_PROBLEM_MAX = 8  # findings (one per cause) stored with one problem
STORED_DOCS_BYTES = 250_000  # finding documents kept with one problem (DynamoDB's item limit: 400 KB)
CLUSTERS_MAX = 200  # clusters one invocation scans (more: the fan-out, or several targets)
NAMESPACES_MAX = 500  # namespaces one scan may name
_PRE_CUT = 16  # redact at most this many times the limit: the rest is cut anyway
_MEMO_MAX = 512  # clean() remembers the strings up to this long it cleaned last (4096 of them)

# An EKS cluster name: 1-100 letters, digits, hyphens and underscores, starting alphanumeric.
CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
# A Kubernetes namespace: an RFC 1123 label.
NAMESPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def cut(text: str, limit: int) -> str:
    """`text`, or its first part with a note of its full length when it is over `limit`."""
    if len(text) <= limit:
        return text
    note = f" [cut: {len(text)} characters in all]"
    return text[: max(limit - len(note), 0)] + note


def clean(text: object, limit: int) -> str:
    """A string read from a cluster, a registry or an AWS error: redacted, stripped of control
    characters, terminal escapes and bidi overrides, then cut to `limit`.

    Anything that is not a string (a malformed object's field) reads as empty.
    """
    if not isinstance(text, str):
        return ""
    if len(text) <= _MEMO_MAX:  # names, images, most messages: a scan reads the same ones often
        return _clean_short(text, limit)
    return _clean(text, limit)


@lru_cache(maxsize=4096)
def _clean_short(text: str, limit: int) -> str:
    return _clean(text, limit)


def _clean(text: str, limit: int) -> str:
    length = len(text)
    kept = printable(redact(text[: limit * _PRE_CUT]))
    if length <= limit:
        return kept
    note = f" [cut: {length} characters in all]"
    return kept[: max(limit - len(note), 0)] + note


def lines(items: Sequence[str], limit: int = EVIDENCE_LINE_MAX,
          count: int = EVIDENCE_LINES_MAX) -> tuple[str, ...]:
    """At most `count` lines, each cut to `limit`; a last line counts what was left out."""
    kept = tuple(cut(item, limit) for item in items[:count])
    if len(items) > count:
        kept += (f"... and {len(items) - count} more",)
    return kept
