"""What every check module declares (META) and returns (Verdict)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pullmedic.causes import Cause
from pullmedic.gather.unavailable import Unavailable
from pullmedic.vocab import VerdictStatus

CONFIRMED, CONTRADICTED, PASSED, UNAVAILABLE = (VerdictStatus.CONFIRMED, VerdictStatus.CONTRADICTED,
                                                VerdictStatus.PASSED, VerdictStatus.UNAVAILABLE)


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


@dataclass(frozen=True)
class Verdict:
    """The result of one check for one finding."""

    check: str
    status: VerdictStatus
    evidence: tuple[str, ...]
    commands: tuple[str, ...] = ()
    fix: str = ""
    rediagnose: Cause | None = field(default=None)

    @classmethod
    def confirmed(cls, meta: CheckMeta, *evidence: str, commands: tuple[str, ...] = (),
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
        return cls(meta.id, UNAVAILABLE, (f"unavailable: {why}",))


def missing(meta: CheckMeta, fact: Unavailable | None) -> Verdict | None:
    """The verdict for a fact the check needs but does not have: skip (None) or unavailable."""
    return None if fact is None else Verdict.unavailable(meta, fact.why)
