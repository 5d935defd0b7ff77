"""The stored messages file: compared against on every run, rewritten on request."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

GENERATED_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "messages" / "generated"
WRITE_ENV = "PULLMEDIC_WRITE_FIXTURES"
COMPARED_FIELDS = ("message", "image", "cause", "alternatives")

HEADER = """\
# Image-pull failure messages produced by a real containerd on the runtime bench
# (tests/runtime_bench). Generated: do not edit by hand. To refresh:
#   PULLMEDIC_WRITE_FIXTURES=1 .venv/bin/python -m pytest -q tests/runtime_bench
# Same fields as the other files in tests/fixtures/messages (see README.md there).
# Ephemeral ports, the bench's temporary containerd root and the DNS resolver address are
# replaced by fixed stand-ins (see tests/runtime_bench/README.md); the rest is verbatim.
"""

REFRESH_HINT = (
    f"If the runtime's wording really changed, refresh the stored messages with "
    f"`{WRITE_ENV}=1 .venv/bin/python -m pytest -q tests/runtime_bench` and review the diff."
)


def write_mode() -> bool:
    """True when the run should (re)write the stored messages instead of comparing."""
    return os.environ.get(WRITE_ENV, "") not in ("", "0", "false", "no")


@dataclass
class MessageStore:
    """Stored entries by id for one runtime version; produced entries of this run."""

    path: Path
    order: list[str]
    write: bool = field(default_factory=write_mode)
    stored: dict[str, dict[str, object]] = field(default_factory=dict)
    produced: dict[str, dict[str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.path.exists():
            entries = yaml.safe_load(self.path.read_text()) or []
            self.stored = {str(e["id"]): e for e in entries}

    def problem(self, entry: dict[str, object]) -> str | None:
        """Record `entry`; unless writing, return why it differs from the stored one."""
        self.produced[str(entry["id"])] = entry
        if self.write:
            return None
        if not self.path.exists():
            return f"{self.path} does not exist yet. {REFRESH_HINT}"
        old = self.stored.get(str(entry["id"]))
        if old is None:
            return f"{entry['id']} is not in {self.path.name}. {REFRESH_HINT}"
        changed = [f for f in COMPARED_FIELDS if old.get(f) != entry.get(f)]
        if not changed:
            return None
        lines = [f"containerd's answer for {entry['id']} changed ({', '.join(changed)}):"]
        for name in changed:
            lines.append(f"  stored   {name}: {old.get(name)}")
            lines.append(f"  produced {name}: {entry.get(name)}")
        return "\n".join([*lines, REFRESH_HINT])

    def flush(self) -> Path | None:
        """In write mode, merge this run's entries into the file; return its path."""
        if not (self.write and self.produced):
            return None
        merged = self.stored | self.produced
        entries = [merged[i] for i in self.order if i in merged]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=10_000)
        self.path.write_text(HEADER + body)
        return self.path
