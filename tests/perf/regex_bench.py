"""Time every pattern of the text-processing modules on hostile input (`make bench`).

For each pattern discovered in pullmedic.core.redact, pullmedic.diagnosing.rules and
pullmedic.diagnosing.classify, the
inputs of regex_cases.py are searched at 100 KB and at 1 MB (every match found, best of
`--repeat`: a shared machine only adds time). Recorded in bench/regex.json: the worst time per
pattern at each size and the input that caused it. Budget: under 50 ms per 100 KB at both
sizes (the 1 MB time divided by ten: linear time keeps to it, quadratic time does not).
Prints one line per pattern, PASS/FAIL, and exits 1 if any pattern is over budget.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regex_cases import adversarial, patterns, worst

from pullmedic.core import redact
from pullmedic.diagnosing import classify, rules

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "regex.json"
BUDGET_MS = 50.0  # per 100 KB
SIZES = {"100KB": 100_000, "1MB": 1_000_000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per input (best is kept)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    found = patterns([redact, rules, classify])
    results: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    for name, pattern in found.items():
        row: dict[str, Any] = {"pattern": pattern.pattern}
        for label, size in SIZES.items():
            inputs = adversarial(pattern, size)
            slowest, which = worst(pattern, inputs, tries=args.repeat)
            per_100kb = slowest * 1000 * 100_000 / size
            row[label] = {"worst_ms": round(slowest * 1000, 2), "per_100kb_ms": round(per_100kb, 2),
                          "input": which, "inputs": len(inputs)}
        worst_per_100kb = max(row[label]["per_100kb_ms"] for label in SIZES)
        row["ok"] = worst_per_100kb < BUDGET_MS
        if not row["ok"]:
            failed.append(name)
        results[name] = row
        print(f"  {'PASS' if row['ok'] else 'FAIL'}  {name:48} 100KB {row['100KB']['worst_ms']:8.2f} ms"
              f"   1MB {row['1MB']['worst_ms']:9.2f} ms   ({row['1MB']['input']})", flush=True)
    slowest = max(results, key=lambda n: results[n]["100KB"]["worst_ms"])
    print(f"{len(results)} patterns; slowest per 100 KB: {slowest} "
          f"({results[slowest]['100KB']['worst_ms']} ms); budget {BUDGET_MS:.0f} ms per 100 KB: "
          f"{'PASS' if not failed else 'FAIL ' + ', '.join(failed)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
        "repeat": args.repeat, "budget_ms_per_100kb": BUDGET_MS, "patterns": results}, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
