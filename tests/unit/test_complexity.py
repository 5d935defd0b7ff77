"""The complexity gate: no function in the layer or the handlers has a cyclomatic complexity above
15, measured with radon (`make lint` runs this file as a script too)."""

from __future__ import annotations

import sys
from pathlib import Path

from radon.complexity import add_inner_blocks, cc_visit
from radon.visitors import Function

REPO = Path(__file__).resolve().parents[2]
ROOTS = (REPO / "layers" / "pullmedic" / "pullmedic", REPO / "functions")
LIMIT = 15


def measure() -> dict[str, int]:
    """Complexity of every function and method above LIMIT, by `file:qualified name`."""
    over: dict[str, int] = {}
    for root in ROOTS:
        for path in sorted(root.rglob("*.py")):
            for block in add_inner_blocks(cc_visit(path.read_text(encoding="utf-8"))):
                if block.complexity > LIMIT and isinstance(block, Function):
                    name = f"{path.relative_to(root.parent).as_posix()}:{block.fullname}"
                    over[name] = block.complexity
    return over


def problems() -> list[str]:
    """One line per function over the limit."""
    return [f"{name} has complexity {cc} (at most {LIMIT}): split it into named steps"
            for name, cc in sorted(measure().items())]


def test_no_function_above_the_limit() -> None:
    assert problems() == []


def test_the_gate_sees_a_complex_function() -> None:
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(LIMIT))
    (block,) = cc_visit(f"def f(x):\n{branches}\n    return -1\n")
    assert block.complexity == LIMIT + 1


if __name__ == "__main__":
    found = problems()
    print("\n".join(found) or f"complexity: no function above {LIMIT}")
    sys.exit(1 if found else 0)
