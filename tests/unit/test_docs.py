"""The README and docs/ stay short, linked and true: the README fits in 200 lines and shows the
two commands and the flow; every relative link and anchor resolves; every dependency the
project pins is named with its reason; every test a guarantee cites exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def prose(text: str) -> str:
    """The text outside fenced code blocks (a link or heading in a code sample is not one)."""
    kept, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return "\n".join(kept)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for line in prose(page.read_text()).splitlines():
        if m := re.match(r"#{1,6} (.+)", line):
            base = slug(m[1])
            name, n = base, 0
            while name in found:  # a repeated heading gets -1, -2, ...
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def section(page: Path, heading: str) -> str:
    text = page.read_text()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) < 200, f"README.md has {len(lines)} lines: move detail to docs/"
    top = "\n".join(lines[:15])
    # CI runs the README's test command (.ci/run): it must stay `make test`, shown first.
    assert re.search(r"^make demo +#", top, re.M) and re.search(r"^make test +#", top, re.M), top
    assert "make test" in (REPO / ".ci/run").read_text()


def test_readme_draws_the_flow() -> None:
    blocks = re.findall(r"```mermaid\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 1, "README.md needs one ```mermaid block: the flow"
    (flow,) = blocks
    assert flow.startswith(("flowchart", "graph"))
    for part in ("EventBridge", "EKS API", "ECR", "IAM", "VPC", "DynamoDB", "SNS", "CLI",
                 "console", "remediation"):
        assert part in flow, f"the flow diagram does not show {part}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file.relative_to(REPO)}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(REPO)}")
    assert not broken, f"{page.relative_to(REPO)}: " + "; ".join(broken)


def test_readme_links_every_docs_page() -> None:
    linked = {(REPO / t.partition("#")[0]).resolve() for t in LINK.findall(README.read_text())}
    assert not [p.name for p in PAGES[1:] if p.resolve() not in linked]


def test_slugs_follow_github() -> None:
    assert slug("Check the deployment: doctor") == "check-the-deployment-doctor"
    assert slug("The `pullmedic` command, and events") == "the-pullmedic-command-and-events"
    assert slug("Many clusters, Regions and accounts") == "many-clusters-regions-and-accounts"


def pinned() -> set[str]:
    """Every package the project installs: pyproject.toml, and the tools' own venvs (Makefile)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = [*project["dependencies"], *(s for extra in project["optional-dependencies"].values()
                                          for s in extra)]
    names = {re.split(r"[\[=<>@ ]", s)[0].lower() for s in specs}
    names |= set(re.findall(r"([a-z][a-z0-9-]+)(?:==|@)\d", (REPO / "Makefile").read_text()))
    return names


def test_readme_says_why_each_dependency_is_there() -> None:
    table = section(README, "Dependencies, and why")
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = {m.lower() for row in rows for m in re.findall(r"`([A-Za-z][\w-]*)", row.split("|")[1])}
    missing = sorted(pinned() - named)
    assert not missing, f"README's 'Dependencies, and why' does not name {missing}"
    assert all(row.rstrip(" |").rsplit("|", 1)[1].strip() for row in rows), "a row without a reason"


def test_every_guarantee_cites_tests_that_exist() -> None:
    table = section(REPO / "docs/testing.md", "Guarantees")
    rows = [line for line in table.splitlines() if line.startswith("| **")]
    assert len(rows) >= 8
    tests = {p.name for p in (REPO / "tests").rglob("test_*.py")}
    for row in rows:
        cited = re.findall(r"`((?:tests/[\w/]+/)?(test_\w+\.py))`", row.split("|")[3])
        assert cited, f"no test cited: {row[:60]}"
        for path, name in cited:
            assert (REPO / path).exists() if path.startswith("tests/") else name in tests, path
