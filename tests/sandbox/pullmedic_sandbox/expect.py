"""A scenario's `expect` and `expect_absent` entries, checked against the findings of a scan.

An `expect` entry is met by one finding whose fields equal the entry's (workload, cause,
confidence, image, container, pod_count...) and whose `evidence` / `fix_commands` contain every
`evidence_mentions` / `fix_mentions` substring. An `expect_absent` entry is broken by a finding
whose fields equal the entry's and that mentions any of its mentions (or, with none listed,
by any such finding). `${name}` must be resolved (aws_seed.substitute) before.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MENTIONS = {"evidence_mentions": "evidence", "fix_mentions": "fix_commands"}


def unmet(expect: Sequence[dict[str, Any]], absent: Sequence[dict[str, Any]],
          findings: Sequence[dict[str, Any]]) -> list[str]:
    """One line per entry that does not hold (empty: the scan found what the scenario says)."""
    problems = [f"expected {_show(e)}; {_closest(e, findings)}" for e in expect
                if not any(_meets(e, f) for f in findings)]
    problems += [f"expected no finding like {_show(e)}; got {len(hits)}: "
                 + ", ".join(f"{f.get('workload')} ({f.get('cause')})" for f in hits)
                 for e in absent if (hits := [f for f in findings if _hits(e, f)])]
    return problems


def _exact(entry: dict[str, Any], finding: dict[str, Any]) -> bool:
    return all(finding.get(key) == value for key, value in entry.items() if key not in MENTIONS)


def _mentions(entry: dict[str, Any]) -> list[tuple[str, str]]:
    return [(mention, field) for key, field in MENTIONS.items() for mention in entry.get(key) or []]


def _meets(entry: dict[str, Any], finding: dict[str, Any]) -> bool:
    return _exact(entry, finding) and all(m in _text(finding, f) for m, f in _mentions(entry))


def _hits(entry: dict[str, Any], finding: dict[str, Any]) -> bool:
    mentions = _mentions(entry)
    return _exact(entry, finding) and (not mentions or any(m in _text(finding, f) for m, f in mentions))


def _closest(entry: dict[str, Any], findings: Sequence[dict[str, Any]]) -> str:
    same = [f for f in findings if f.get("workload") == entry.get("workload")]
    if not same:
        got = sorted({f"{f.get('workload')} ({f.get('cause')})" for f in findings})
        return f"no finding for {entry.get('workload')}; found: {', '.join(got) or 'nothing'}"
    differs = []
    for finding in same:
        differs += [f"{k}={finding.get(k)!r}" for k, v in entry.items()
                    if k not in MENTIONS and finding.get(k) != v]
        differs += [f"{field} lacks {m!r}" for m, field in _mentions(entry) if m not in _text(finding, field)]
    return "got " + "; ".join(dict.fromkeys(differs))


def _text(finding: dict[str, Any], field: str) -> str:
    return "\n".join(finding.get(field) or [])


def _show(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True)
