"""The package tree shows the pipeline, and every import points one way along it.

Stages, in order: core (the vocabulary) < reading < diagnosing < announcing < remediating < app
(the composition root and use cases) < doctor < cli. A module may import its own stage and the
stages before it, never one after it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers/pullmedic/pullmedic"
ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs/architecture.md"
ORDER = ("core", "reading", "diagnosing", "announcing", "remediating", "app", "doctor", "cli")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _stage(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level stage) of every absolute pullmedic import in the tree."""
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "pullmedic" else [
                f"pullmedic.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found += [(node.lineno, n.split(".")[1]) for n in names if n.startswith("pullmedic.")]
    return found


def test_every_module_lives_in_a_stage_package() -> None:
    stray = [p.name for p in PACKAGE.iterdir() if p.name not in {*ORDER, "__init__.py", "__pycache__"}]
    assert not stray, f"top-level modules outside the stage packages: {stray}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_back_along_the_pipeline(path: Path) -> None:
    if path.parent == PACKAGE:
        return
    own = ORDER.index(_stage(path))
    later = [f"line {line}: {stage}" for line, stage in _imported(ast.parse(path.read_text()))
             if ORDER.index(stage) > own]
    assert not later, f"{_stage(path)} imports a later stage: {later}"


def test_the_architecture_page_describes_every_package() -> None:
    text = ARCHITECTURE.read_text()
    missing = [stage for stage in ORDER if f"`{stage}/`" not in text]
    assert not missing, f"docs/architecture.md does not describe: {missing}"
