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
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


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
    origin = get_origin(kind)
    if value is None:
        return None  # type: ignore[return-value]
    if origin in (Union, types.UnionType, tuple):
        return _decode_generic(kind, origin, value)  # type: ignore[no-any-return]
    if origin in (list, dict) or kind in (Any, str, int, float, bool, dict, list):
        return value  # type: ignore[no-any-return]
    return _decode_class(kind, value)  # type: ignore[no-any-return]


def _decode_generic(kind: Any, origin: Any, value: Any) -> Any:
    """An optional value (the type that is not None), or a tuple (of one type, or one per item)."""
    if origin is tuple:
        args = get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in value)
        return tuple(decode(a, v) for a, v in zip(args, value, strict=True))
    return decode(next(a for a in get_args(kind) if a is not type(None)), value)


def _decode_class(kind: Any, value: Any) -> Any:
    """A dataclass or NamedTuple (field by field), an enum, a datetime; anything else as it is."""
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
    return decode(kind, json.loads(text))  # type: ignore[no-any-return]
