"""Which ECR lifecycle rules could have expired a tag (pure: reads the policy text only)."""

from __future__ import annotations

import fnmatch
import json
from typing import Any


def rules_covering(policy_text: str, tag: str) -> list[str]:
    """Descriptions of the expire rules whose selection includes `tag`."""
    try:
        rules: list[dict[str, Any]] = json.loads(policy_text).get("rules", [])
    except (ValueError, AttributeError):
        return []
    return [_describe(rule) for rule in sorted(rules, key=lambda r: r.get("rulePriority", 0))
            if (rule.get("action") or {}).get("type") == "expire" and _selects(rule, tag)]


def _selects(rule: dict[str, Any], tag: str) -> bool:
    selection = rule.get("selection") or {}
    status = selection.get("tagStatus", "any")
    if status == "untagged":
        return False
    if status == "any":
        return True
    prefixes = selection.get("tagPrefixList") or []
    patterns = selection.get("tagPatternList") or []
    return (any(tag.startswith(p) for p in prefixes)
            or any(fnmatch.fnmatchcase(tag, p) for p in patterns)) if prefixes or patterns else True


def _describe(rule: dict[str, Any]) -> str:
    selection = rule.get("selection") or {}
    count = selection.get("countNumber")
    if selection.get("countType") == "sinceImagePushed":
        keep = f"images pushed more than {count} {selection.get('countUnit', 'days')} ago"
    else:
        keep = f"all but the newest {count} images"
    scope = selection.get("tagPrefixList") or selection.get("tagPatternList") or ["any tag"]
    return f"rule {rule.get('rulePriority')} expires {keep} ({', '.join(scope)})"
