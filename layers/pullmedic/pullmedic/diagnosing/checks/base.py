"""What every check module declares (META), is (Check) and returns (Verdict)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.core.vocab import VerdictStatus
from pullmedic.diagnosing.checks.facts import Fact, Snapshot, Subject

CONFIRMED, CONTRADICTED, PASSED, UNAVAILABLE = (VerdictStatus.CONFIRMED, VerdictStatus.CONTRADICTED,
                                                VerdictStatus.PASSED, VerdictStatus.UNAVAILABLE)
# One evidence line: a statement, or a fact that could not be read (with its reason).
Line = str | Unavailable


@dataclass(frozen=True)
class CheckMeta:
    """Typed metadata of one diagnostic check (id = the module's file name)."""

    id: str
    title: str
    causes: frozenset[Cause]
    severity: str
    fix: str
    command: str  # the fix command template; {placeholders} are filled with real ids
    permissions: tuple[str, ...] = ()  # the read actions the check needs (IAM or Kubernetes)
    needs: frozenset[Fact] = frozenset()  # the facts `run` reads; gathered before it runs


@dataclass(frozen=True)
class Verdict:
    """The result of one check for one finding."""

    check: str
    status: VerdictStatus
    evidence: tuple[Line, ...]
    commands: tuple[str, ...] = ()
    fix: str = ""
    rediagnose: Cause | None = field(default=None)

    @classmethod
    def confirmed(cls, meta: CheckMeta, *evidence: Line, commands: tuple[str, ...] = (),
                  fix: str = "", cause: Cause | None = None) -> Verdict:
        """Evidence agrees with (or, with `cause`, names) the cause."""
        return cls(meta.id, CONFIRMED, evidence, commands, fix or meta.fix, cause)

    @classmethod
    def contradicted(cls, meta: CheckMeta, *evidence: str, cause: Cause | None = None) -> Verdict:
        """Evidence disagrees with the message; `cause` is the re-diagnosis, if any."""
        return cls(meta.id, CONTRADICTED, evidence, rediagnose=cause)

    @classmethod
    def passed(cls, meta: CheckMeta, *evidence: str) -> Verdict:
        """This part of the path or permission is fine."""
        return cls(meta.id, PASSED, evidence)

    @classmethod
    def unavailable(cls, meta: CheckMeta, why: str) -> Verdict:
        """The facts could not be read; the finding stays `likely`."""
        return cls(meta.id, UNAVAILABLE, (Unavailable(why),))

    def text(self) -> tuple[str, ...]:
        """The evidence as a user reads it (a missing fact says "unavailable: why")."""
        return tuple(f"unavailable: {line.why}" if isinstance(line, Unavailable) else line
                     for line in self.evidence)


class Check(Protocol):
    """A check module: its metadata and a pure `run` over the facts it declared."""

    @property
    def META(self) -> CheckMeta: ...  # a module constant

    def run(self, subject: Subject, facts: Snapshot) -> Verdict | None: ...


def missing(meta: CheckMeta, fact: Unavailable | None) -> Verdict | None:
    """The verdict for a fact the check needs but does not have: skip (None) or unavailable."""
    return None if fact is None else Verdict.unavailable(meta, fact.why)
