"""Keep what the function returns under the platform's limits (pure).

A Lambda response may be 6 MB, a Step Functions state 256 KB. A summary that would be
larger keeps the first entries of its long lists and counts the rest (`<list>_omitted`);
the full picture is in the SNS document and the log.
"""

from __future__ import annotations

import json
from typing import Any

LAMBDA_RESPONSE_BYTES = 1_000_000  # well under Lambda's 6 MB
STATE_BYTES = 200_000  # under Step Functions' 256 KB per state
TRIMMED = ("problems", "findings", "resolved", "remediation", "errors")


def size(doc: Any) -> int:
    """Bytes of `doc` as JSON the way the runtime writes it (the roomiest: spaces, escapes)."""
    return len(json.dumps(doc, default=str).encode())


def fitted(doc: dict[str, Any], budget: int) -> dict[str, Any]:
    """`doc`, with its long lists cut (in TRIMMED order) until it fits `budget` bytes."""
    out = dict(doc)
    for key in TRIMMED:
        if size(out) <= budget:
            break
        items = out.get(key)
        if not isinstance(items, list) or not items:
            continue
        low, high, best = 0, len(items), 0
        while low <= high:
            middle = (low + high) // 2
            if size({**out, key: items[:middle], f"{key}_omitted": len(items) - middle}) <= budget:
                best, low = middle, middle + 1
            else:
                high = middle - 1
        out[key] = items[:best]
        out[f"{key}_omitted"] = len(items) - best
    return out
