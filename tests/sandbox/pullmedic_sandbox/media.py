"""Content negotiation as kube-apiserver does it for JSON: ``as``/``g``/``v`` media type parameters.

Clients ask for a transformed response (a ``Table``, an aggregated discovery document) by listing
``application/json;as=Table;v=v1;g=meta.k8s.io`` before plain ``application/json`` in ``Accept``;
the server answers with the first entry it can produce.
"""

from __future__ import annotations

from dataclasses import dataclass

JSON = "application/json"


@dataclass(frozen=True)
class MediaType:
    """One entry of an ``Accept`` header: type and its ``as``/``g``/``v`` parameters."""

    type: str
    as_kind: str = ""
    group: str = ""
    version: str = ""

    @property
    def plain(self) -> bool:
        """JSON (or anything) without a transformation asked for."""
        return not self.as_kind and self.type in {JSON, "application/*", "*/*"}

    def is_(self, kind: str, group: str, version: str) -> bool:
        """Whether this entry asks for ``kind`` of ``group/version`` as JSON."""
        return (self.type, self.as_kind, self.group, self.version) == (JSON, kind, group, version)

    def header(self) -> str:
        """The ``Content-Type`` of a response in this media type."""
        if not self.as_kind:
            return JSON
        return f"{JSON};g={self.group};v={self.version};as={self.as_kind}"


def parse_accept(accept: str) -> list[MediaType]:
    """The entries of an ``Accept`` header in order (an empty header means plain JSON)."""
    entries = []
    for entry in accept.split(","):
        kind, *params = (part.strip() for part in entry.split(";"))
        if not kind:
            continue
        values = dict(p.partition("=")[::2] for p in params)
        entries.append(
            MediaType(kind.lower(), values.get("as", ""), values.get("g", ""), values.get("v", ""))
        )
    return entries or [MediaType(JSON)]


def choose(accept: str, transform: tuple[str, str, str] | None) -> MediaType | None:
    """The first acceptable entry: the ``(kind, group, version)`` transformation when one is
    offered, or plain JSON; None if neither is asked for."""
    for media in parse_accept(accept):
        if media.plain or (transform is not None and media.is_(*transform)):
            return media
    return None
