"""Remove secrets from text before it is logged, published or shown, and make text safe for a
terminal or a mail reader (pure).

Every pattern runs in linear time (tests/unit/test_regex_worst_case.py): a match may only
start where a run of its characters starts (a lookbehind), and no run is read again from a
later start. No pattern consumes a quote or a backslash (context around a secret is captured
and put back), so redacting JSON text keeps it valid JSON, and redacting a JSON line gives the
same text as redacting the message before it was encoded.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

_MASK = "[REDACTED]"
# A JSON/YAML key's quotes, escaped any number of times (JSON inside JSON): never consumed.
_Q = r"""\\*+["']"""
# Where a value may start in an URL or in encoded text: not inside a word, or after %XX.
# (Patterns with many keys start with a lookahead for their first letters: most positions fail
# there, at one character test instead of one per key.)
_START = r"(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2}))"

_PATTERNS: dict[str, tuple[str, str]] = {
    # user:password@ in URLs (the last @ of the authority: a password may hold an @), plain ...
    "url-credentials": (r"""(?<=://)[^/\s:@"'\\]*+:[^/\s"'\\]+@""", f"{_MASK}@"),
    # ... and URL-encoded (https%3A%2F%2Fuser%3Apassword%40host).
    "url-credentials-encoded": (
        r"""(?i)(?<=%3A%2F%2F)(?:[^/\s"'\\%&]|%(?!2F|3A)[0-9A-F]{2})*+%3A"""
        r"""(?:[^/\s"'\\%&]|%(?!2F)[0-9A-F]{2})+%40""", f"{_MASK}%40"),
    # Query and form parameters that carry a secret (presigned S3/GCS URLs, Azure SAS `sig`,
    # passwords and tokens), plain or URL-encoded (key%3Dvalue, up to an encoded &).
    "query-parameters": (
        r"""(?i)(?=[acipstx])""" + _START + r"""((?:X-Amz-(?:Signature|Security-Token|Credential)"""
        r"""|X-Goog-(?:Signature|Credential)|password|passwd|pwd|access_token|refresh_token"""
        r"""|id_token|auth_token|token|client_secret|secret|api_?key|sig|signature)(?:=|%3D))"""
        # not a placeholder a printed command asks to fill in (the whole value is <password>)
        r"""(?!<[A-Za-z_-]++>(?![^\s"'\\&]))"""
        r"""(?:[^\s"'\\&%:]|%(?!26)|:(?!\s|$))++""", rf"\1{_MASK}"),
    # Keys that always name a secret, with any separator (env files, INI files, YAML, JSON).
    "secret-keys": (
        r"""(?i)(?=[acirs])(?<![A-Za-z0-9])((?:aws_secret_access_key|aws_session_token|aws_security_token"""
        r"""|secret_?access_?key|session_?token|identity_?token|registry_?token|client_?secret)"""
        r"""(?:\\*+["'])?\s*+[:=]\s*+(?:\\*+["'])?)[^\s"'\\,;&]++""", rf"\1{_MASK}"),
    # Quoted keys in JSON, YAML or Python reprs ("auth" and "password" of a docker config).
    "quoted-keys": (
        r"""(?i)(["'](?:auth|password|passwd|token|access_?token|refresh_?token|id_?token|secret"""
        r"""|api_?key)""" + _Q + r"""\s*+:\s*+""" + _Q + r""")"""
        # not a shell variable a printed command reads the secret from: "${TOKEN:?export it}"
        r"""(?!\$\{[A-Za-z_]\w*+(?::\?[^}"'\\]*+)?\}(?=\\*+["']))[^"'\\]++""", rf"\1{_MASK}"),
    # Authorization and token headers (a value without a scheme word: only a long one with a
    # digit, not the words of "may require authorization: authorization failed").
    "authorization-headers": (
        r"""(?i)(?=[apx])\b((?:Proxy-)?Authorization|X-Registry-Auth|X-Auth-Token|Private-Token|X-Api-Key"""
        r"""|X-Amz-Security-Token)((?:\\*+["'])?\s*+[:=]\s*+(?:\\*+["'])?\s*+)"""
        r"""(?>((?:Bearer|Basic|token|Digest|Negotiate|AWS4-HMAC-SHA256)\s++)"""
        r"""|(?=[^\s"'\\),;]*?[0-9]))[^\s"'\\),;]{12,}""", rf"\1\2\3{_MASK}"),
    # Bearer and basic credentials wherever they appear (RFC 6750's b64token).
    "bearer-basic": (r"(?i)\b(Bearer|Basic)\s++[A-Za-z0-9._~+/-]{8,}+=*+", rf"\1 {_MASK}"),
    # Token shapes: GitHub, GitLab, AWS access key ids and session tokens, JWTs, EKS tokens.
    "github-tokens": (r"(?<![A-Za-z0-9_])(gh[pousr]_)[A-Za-z0-9]{20,}+", rf"\1{_MASK}"),
    "github-fine-grained-tokens": (r"(?<![A-Za-z0-9_])(github_pat_)[A-Za-z0-9_]{20,}+", rf"\1{_MASK}"),
    "gitlab-tokens": (r"(?<![A-Za-z0-9_-])(gl(?:pat|dt|rt|ptt|cbt|soat)-)[A-Za-z0-9_-]{20,}+",
                      rf"\1{_MASK}"),
    "aws-access-key-ids": (r"(?<![A-Za-z0-9])(AKIA|ASIA)[A-Z0-9]{12,}+", rf"\1{_MASK}"),
    "aws-session-tokens": (r"(?<![A-Za-z0-9+/])(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9+/=%]++", _MASK),
    "jwts": (r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}+\.ey[A-Za-z0-9_-]++(?:\.[A-Za-z0-9_-]*+)?", _MASK),
    "eks-tokens": (r"(?<![A-Za-z0-9_-])k8s-aws-v1\.[A-Za-z0-9_-]++", f"k8s-aws-v1.{_MASK}"),
}
# What every pattern above needs somewhere in its match (a separator, a quote, an underscore or
# a token's fixed prefix): text without any of them (most names, ids and images) has nothing to
# redact, and one search of this says so (tests/unit/test_redact_corpus.py holds every pattern
# to it: a new pattern adds its own literal here).
_TRIGGER = re.compile(r"""[:=%"'_]|(?i:bearer|basic)|gl(?:pat|dt|rt|ptt|cbt|soat)-|AKIA|ASIA"""
                      r"""|FwoGZXIvYXdz|IQoJb3JpZ2lu|eyJ|k8s-aws-v1\.""")
_MEMO_MAX = 512  # redact() remembers the last 4096 texts up to this long (evidence, commands)
_COMPILED: dict[str, tuple[re.Pattern[str], str]] = {
    name: (re.compile(pattern), replacement) for name, (pattern, replacement) in _PATTERNS.items()}

# Terminal escape sequences (CSI, OSC up to BEL or ST) and every character a person should not
# be sent: C0 and C1 controls, DEL, bidi overrides and isolates, zero-width characters, BOM.
_ESCAPES = re.compile(r"\x1b\[[0-?]*+[ -/]*+[@-~]|\x1b\][^\x07\x1b]*+(?:\x07|\x1b\\)")
_BREAKS = re.compile("\r\n|[\u2028\u2029]")
_ONE_LINE = re.compile("[\t\n\r\u2028\u2029]+")
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u2064\u2066-\u2069\ufeff]+")


def redact(text: str) -> str:
    """`text` with credentials, signatures and tokens replaced by [REDACTED]."""
    if _TRIGGER.search(text) is None:
        return text
    return _redact_short(text) if len(text) <= _MEMO_MAX else _redact(text)


@lru_cache(maxsize=4096)
def _redact_short(text: str) -> str:
    return _redact(text)


def _redact(text: str) -> str:
    for pattern, replacement in _COMPILED.values():
        text = pattern.sub(replacement, text)
    return text


def printable(text: str, multiline: bool = True) -> str:
    """`text` without terminal escapes, control, bidi or zero-width characters.

    Newlines and tabs stay in multi-line text; in one-line text (`multiline=False`) each run of
    them and of removed characters becomes one space, so words stay apart.
    """
    text = _ESCAPES.sub("", text)
    text = _BREAKS.sub("\n", text) if multiline else _ONE_LINE.sub(" ", text)
    return _INVISIBLE.sub("", text)


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
