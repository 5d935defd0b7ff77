"""Name the cause of one pull failure from its message (pure: no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from pullmedic.core.causes import Cause
from pullmedic.core.imageref import ImageRef, InvalidReference, parse_image
from pullmedic.diagnosing.rules import RULES, Rule

_KUBELET_PREFIX = re.compile(
    r'^(?:Failed to pull image "[^"]*": |Failed to create pod sandbox: |Error: )'
)
_GRPC = re.compile(r"rpc error: code = (?P<code>\w+) desc = ")
# A log line rather than an event: klog's `err="..."` or logrus' `error="..."`, Go-quoted.
_LOG_ERROR = re.compile(r'\berr(?:or)?="((?:[^"\\\n]|\\.)*)"')
# The kubelet's pod-sync wrapper around the runtime's error, Go-quoted once more.
_SYNC_WRAPPER = re.compile(
    r'with (?:ErrImagePull|ImagePullBackOff|ErrImageNeverPull|InvalidImageName): "((?:[^"\\\n]|\\.)*)"'
)
_GO_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|.)")
_GO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


@dataclass(frozen=True)
class Classification:
    """The cause named for a message, the rule that named it and the alternatives."""

    cause: Cause
    rule_id: str
    summary: str
    alternatives: tuple[Cause, ...] = ()
    grpc_code: str | None = None
    detail: str = ""


@cache
def _compiled() -> tuple[tuple[Rule, re.Pattern[str] | None], ...]:
    return tuple((rule, rule.compiled()) for rule in RULES)


@lru_cache(maxsize=4096)  # pure: a scan sees the same few messages on many pods
def classify(message: str, *, reason: str | None = None, image: str | None = None) -> Classification:
    """Classify a kubelet message (event or waiting message) for `image`.

    `reason` is the container's waiting reason or the event reason, when known.
    """
    text = _from_log_line((message or "").strip())
    parsed = parse_image(image) if image else None
    code, detail = _unwrap(text)
    for rule, pattern in _compiled():
        if rule.reason is not None:
            hit = rule.reason == reason
        else:
            hit = pattern is not None and pattern.search(text) is not None
        if hit:
            return _result(rule, parsed, code, detail)
    if isinstance(parsed, InvalidReference):
        return Classification(Cause.INVALID_IMAGE_NAME, "unparsable_image",
                              f"The image reference does not parse: {parsed.reason}.",
                              grpc_code=code, detail=detail)
    summary = "No rule matches this message." if text else "No failure message is available."
    return Classification(Cause.UNKNOWN, "no_rule" if text else "no_message", summary,
                          grpc_code=code, detail=detail)


def _result(rule: Rule, image: ImageRef | InvalidReference | None,
            code: str | None, detail: str) -> Classification:
    cause = rule.cause
    if isinstance(image, ImageRef):
        cause = rule.by_registry.get(image.registry_kind, cause)
    alternatives = tuple(dict.fromkeys(a for a in (rule.cause, *rule.alternatives) if a != cause))
    return Classification(cause, rule.id, rule.summary, alternatives, code, detail)


def _from_log_line(text: str) -> str:
    """The error carried by a structured log line, unquoted; other text unchanged.

    Rules are written against event messages; a kubelet or containerd log line carries the
    same error Go-quoted (`\\"`) inside `err="..."`, sometimes wrapped once more by the pod
    sync loop (`with ErrImagePull: "..."`).
    """
    for pattern in (_LOG_ERROR, _SYNC_WRAPPER):
        match = pattern.search(text)
        if match is not None:
            text = _GO_ESCAPE.sub(_unescape, match[1])
    return text


def _unescape(match: re.Match[str]) -> str:
    char = match[1]
    if char.startswith("x") and len(char) == 3:
        return chr(int(char[1:], 16))
    return _GO_ESCAPES.get(char, char)


def _unwrap(text: str) -> tuple[str | None, str]:
    """Strip the kubelet prefix and the gRPC status wrapper; return (gRPC code, detail)."""
    detail = _KUBELET_PREFIX.sub("", text, count=1)
    match = _GRPC.search(detail)
    if match is None:
        return None, detail
    return match["code"], detail[: match.start()] + detail[match.end():]
