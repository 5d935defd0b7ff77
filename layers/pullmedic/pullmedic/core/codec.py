"""One lossless JSON codec for the records pullmedic stores: findings, errors, announcements.

Dataclasses and NamedTuples become objects, enums their values, datetimes ISO 8601, tuples
lists; `decode` rebuilds the typed value from its type hints. The state table's outbox and
the fan-out's stored results both use it, so what is stored is what was found.
"""

from __future__ import annotations

import json
import types
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, Union, cast, get_args, get_origin, get_type_hints

T = TypeVar("T")
VERSION = 1  # the layout `encode` writes, stored next to it (bump it with a reader for the old one)


def encode(value: Any) -> Any:
    """`value` as plain JSON data."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {name: encode(getattr(value, name)) for name in value._fields}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(kind: type[T] | Any, value: Any) -> T:
    """Rebuild a value of type `kind` from what `encode` made of it."""
    if value is None:
        return None  # type: ignore[return-value]
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        return cast(T, decode(next(a for a in get_args(kind) if a is not type(None)), value))
    if origin is tuple:
        return cast(T, _tuple(get_args(kind), value))
    if origin in (list, dict) or kind in (Any, str, int, float, bool, dict, list):
        return cast(T, value)
    return cast(T, _instance(kind, value))


def _tuple(args: tuple[Any, ...], value: Any) -> tuple[Any, ...]:
    """A homogeneous tuple (tuple[X, ...]) or a fixed one (tuple[X, Y])."""
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(decode(args[0], v) for v in value)
    return tuple(decode(a, v) for a, v in zip(args, value, strict=True))


def _instance(kind: Any, value: Any) -> Any:
    """A dataclass, NamedTuple, enum member or datetime; anything else as it is."""
    if isinstance(kind, type) and (is_dataclass(kind) or _named_tuple(kind)):
        hints = get_type_hints(kind)
        return kind(**{name: decode(hints[name], v) for name, v in value.items()})
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    return value


def _named_tuple(kind: type) -> bool:
    return issubclass(kind, tuple) and hasattr(kind, "_fields")


def dumps(value: Any) -> str:
    """Compact JSON text of `value`."""
    return json.dumps(encode(value), separators=(",", ":"), ensure_ascii=False)


def loads(kind: type[T] | Any, text: str | bytes) -> T:
    """The value of type `kind` that `dumps` wrote."""
    return cast(T, decode(kind, json.loads(text)))
