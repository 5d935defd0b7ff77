"""Worst-case inputs for the project's regular expressions, found from the patterns themselves.

`patterns()` discovers every compiled pattern of the text-processing modules (module globals,
containers of them, and every classifier rule), so a pattern added later is covered without
listing it. `adversarial(pattern, size)` builds inputs of `size` characters that make a
backtracking engine work hardest on that pattern: its literal pieces repeated, near-matches
of each alternative repeated, and generic separators ("a-", "::", "//", "@", spaces).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from re import _constants as c  # the parser's opcodes (stable since Python 3.11)
from re import _parser
from types import ModuleType
from typing import Any

GENERIC = ("a-", "a", "::", "//", "@", " ", "\t", "\n", "a:", "a@", "=", "%3D", "a.", "eyJ", "\\\"",
           "\x1b[", "\x1b]", "\u202e")
_CANDIDATES = "a0-_./:=@+%xZ \t\n\"'\\\x1b;&?#,"
_MAX_SAMPLES = 24


def patterns(modules: list[ModuleType]) -> dict[str, re.Pattern[str]]:
    """Every compiled pattern reachable from the modules' globals, by a readable name."""
    found: dict[str, re.Pattern[str]] = {}
    for module in modules:
        short = module.__name__.rsplit(".", 1)[-1]
        for name, value in vars(module).items():
            if not name.startswith("__"):
                for label, pattern in _walk(value, f"{short}.{name}", 0):
                    if pattern.pattern not in {p.pattern for p in found.values()}:
                        found[label] = pattern
    return found


def _walk(value: Any, label: str, depth: int) -> Iterator[tuple[str, re.Pattern[str]]]:
    if depth > 3 or isinstance(value, ModuleType | type):
        return
    if isinstance(value, re.Pattern):
        yield label, value
    elif callable(getattr(value, "compiled", None)):  # a classifier rule
        compiled = value.compiled()
        if isinstance(compiled, re.Pattern):
            yield f"rule {getattr(value, 'id', label)}", compiled
    elif isinstance(value, tuple) and value and isinstance(value[0], re.Pattern):  # (pattern, use)
        yield label, value[0]
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            yield from _walk(item, f"{label}[{index}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{label}[{key}]", depth + 1)


def adversarial(pattern: re.Pattern[str], size: int) -> dict[str, str]:
    """Inputs of `size` characters, by a short description, that stress `pattern`."""
    tree = _parser.parse(pattern.pattern, pattern.flags)
    pieces = sorted({p for p in _literals(tree) if p})
    samples = [s for s in _samples(tree) if s][:_MAX_SAMPLES]
    units = {f"{g!r}*": g for g in GENERIC}
    for piece in pieces:
        units.update({f"{piece!r}*": piece, f"{piece!r}+' '*": piece + " ",
                      f"{piece!r}+'a-'*": piece + "a-"})
    for sample in samples:
        units.update({f"near {sample!r}*": sample[:-1] or sample,
                      f"half {sample!r}*": sample[: max(1, len(sample) // 2)],
                      f"{sample!r}*": sample})
    if pieces:
        units["all pieces*"] = "".join(pieces)
    return {name: (unit * (size // len(unit) + 1))[:size] for name, unit in units.items()}


def worst(pattern: re.Pattern[str], inputs: dict[str, str], tries: int = 1) -> tuple[float, str]:
    """The slowest input's time (seconds, best of `tries`) to find every match, and its name."""
    slowest, which = 0.0, ""
    for name, text in inputs.items():
        best = min(_timed(pattern, text) for _ in range(tries))
        if best > slowest:
            slowest, which = best, name
    return slowest, which


def _timed(pattern: re.Pattern[str], text: str) -> float:
    start = time.perf_counter()
    for _ in pattern.finditer(text):
        pass
    return time.perf_counter() - start


def _literals(tree: Any) -> Iterator[str]:
    """The runs of literal characters anywhere in a parsed pattern."""
    run = ""
    for op, arg in tree:
        if op is c.LITERAL:
            run += chr(arg)
            continue
        yield run
        run = ""
        for sub in _children(op, arg):
            yield from _literals(sub)
    yield run


def _children(op: Any, arg: Any) -> list[Any]:
    if op is c.BRANCH:
        return list(arg[1])
    if op is c.SUBPATTERN:
        return [arg[3]]
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        return [arg[2]]
    if op in (c.ATOMIC_GROUP,):
        return [arg]
    if op in (c.ASSERT, c.ASSERT_NOT):
        return [arg[1]]
    return []


def _samples(tree: Any) -> list[str]:
    """A few strings that `tree` matches (one per alternative, up to a bound), lookarounds aside."""
    results = [""]
    for op, arg in tree:
        options = _node_samples(op, arg)
        results = [r + o for r in results for o in options][:_MAX_SAMPLES]
    return results


def _node_samples(op: Any, arg: Any) -> list[str]:
    if op is c.LITERAL:
        return [chr(arg)]
    if op is c.NOT_LITERAL:
        return [next(ch for ch in _CANDIDATES if ord(ch) != arg)]
    if op is c.ANY:
        return ["a"]
    if op is c.IN:
        return [next((ch for ch in _CANDIDATES if _in_class(arg, ch)), "a")]
    if op is c.BRANCH:
        return [s for alt in arg[1] for s in _samples(alt)][:_MAX_SAMPLES]
    if op is c.SUBPATTERN:
        return _samples(arg[3])
    if op is c.ATOMIC_GROUP:
        return _samples(arg)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        return [s * max(arg[0], 1) for s in _samples(arg[2])]
    if op is c.AT and arg in (c.AT_BEGINNING_LINE, c.AT_END_LINE):
        return ["\n"]
    return [""]  # other anchors, lookarounds, group references


def _in_class(items: list[tuple[Any, Any]], ch: str) -> bool:
    """Whether `ch` is in a parsed character class."""
    negate, hit = False, False
    for op, arg in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            hit = hit or ord(ch) == arg
        elif op is c.RANGE:
            hit = hit or arg[0] <= ord(ch) <= arg[1]
        elif op is c.CATEGORY:
            hit = hit or _category(arg, ch)
    return hit != negate


def _category(category: Any, ch: str) -> bool:
    tests = {c.CATEGORY_DIGIT: ch.isdigit(), c.CATEGORY_SPACE: ch.isspace(),
             c.CATEGORY_WORD: ch.isalnum() or ch == "_"}
    for positive, negative in ((c.CATEGORY_DIGIT, c.CATEGORY_NOT_DIGIT),
                               (c.CATEGORY_SPACE, c.CATEGORY_NOT_SPACE),
                               (c.CATEGORY_WORD, c.CATEGORY_NOT_WORD)):
        if category is positive:
            return tests[positive]
        if category is negative:
            return not tests[positive]
    return False
