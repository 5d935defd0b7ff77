"""The deploy guide's parameter table (docs/deploy.md), rendered from template.yaml.

`python tests/deploy/parameter_table.py` prints it; tests/deploy/test_deploy_parameters.py fails
when the guide's table differs (a parameter, default, allowed range or description).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from deploy_support import load_template  # noqa: E402 - run as a script too

HEADER = ("| Parameter | Default | Allowed | What it does |", "|---|---|---|---|")


def _text(value: Any) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def allowed(spec: dict[str, Any]) -> str:
    """What CloudFormation accepts for the parameter, in words."""
    if "AllowedValues" in spec:
        return ", ".join(f"`{v}`" for v in spec["AllowedValues"])
    if "MinValue" in spec or "MaxValue" in spec:
        low, high = spec.get("MinValue"), spec.get("MaxValue")
        if high is None:
            return f"≥ {low}"
        return f"{low}–{high}" if low is not None else f"≤ {high}"
    if "AllowedPattern" in spec:
        return _text(spec["ConstraintDescription"])
    return "comma-separated list" if spec["Type"] == "CommaDelimitedList" else "any"


def row(name: str, spec: dict[str, Any]) -> str:
    default = spec.get("Default", "")
    shown = "(empty)" if default == "" else f"`{default}`"
    return f"| `{name}` | {shown} | {allowed(spec)} | {_text(spec.get('Description', ''))} |"


def render(template: dict[str, Any]) -> list[str]:
    """The table's lines, one row per parameter in the template's order."""
    return [*HEADER, *(row(name, spec) for name, spec in template["Parameters"].items())]


if __name__ == "__main__":
    print("\n".join(render(load_template())))
