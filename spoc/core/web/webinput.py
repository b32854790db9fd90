"""What the web layer accepts as a number or as JSON, decided once for every view.

- Route ``<int:...>`` parts beyond 64 bits do not match (404), instead of reaching the
  database as numbers it cannot hold.
- ``request.form.get(name, type=int)`` / ``request.args.get(...)`` refuse an integer beyond
  64 bits, and ``type=float`` a number that is not finite (``inf``, ``nan``, ``1e999``), with a
  400 that names the field (:class:`FieldRejected`); other bad values still give the default.
- JSON bodies nest at most :data:`MAX_JSON_DEPTH` levels and carry no ``NaN``/``Infinity``,
  no number beyond a double and no integer beyond 64 bits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from flask import Request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from spoc.core.storage.keyset import CursorRejected

MAX_INT = 2**31 - 1  # an INTEGER column (32 bits on PostgreSQL): ids, versions, counts
MAX_JSON_INT = 2**63 - 1  # a number inside a JSON document
MAX_JSON_DEPTH = 32


class FieldRejected(BadRequest):
    """A 400 naming the field whose value cannot be used."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def cursor_rejected(exc: CursorRejected) -> FieldRejected:
    """A cursor the list did not make, as the 400 that names the field it came in."""
    return FieldRejected(exc.field, exc.message)


def bounded_int(text: str, field: str) -> int:
    """``text`` as an integer that fits 64 bits (signed), or :class:`FieldRejected`."""
    try:
        value = int(text)
    except ValueError:
        raise FieldRejected(field, "must be a whole number") from None
    if not -MAX_INT <= value <= MAX_INT:
        raise FieldRejected(field, "is out of range")
    return value


class CheckedMultiDict(ImmutableMultiDict[str, str]):
    def get(  # type: ignore[override]
        self, key: str, default: Any = None, type: Callable[[str], Any] | None = None
    ) -> Any:
        if type is int or type is float:
            try:
                raw = self[key]
            except KeyError:
                return default
            try:
                value = type(raw)
            except (ValueError, TypeError):
                return default
            if type is int and not -MAX_INT <= value <= MAX_INT:
                raise FieldRejected(key, "is out of range")
            if type is float and not math.isfinite(value):
                raise FieldRejected(key, "must be a finite number")
            return value
        if type is None:
            return super().get(key, default)
        return super().get(key, default, type)


class SpocRequest(Request):
    parameter_storage_class = CheckedMultiDict


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that matches only what a 64-bit database column holds."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


class JsonRejected(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"{text} is beyond the range of a number")
    return value


def _bounded(text: str) -> int:
    value = int(text)
    if not -MAX_JSON_INT <= value <= MAX_JSON_INT:
        raise JsonRejected(f"{text[:30]} is beyond the range of a 64-bit integer")
    return value


def _check_tree(value: Any) -> None:
    """Refuse nesting beyond :data:`MAX_JSON_DEPTH` and text holding NUL (no database stores
    it; PostgreSQL refuses it outright), naming the path of the first offender."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "body")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise JsonRejected(f"{path} contains a character we cannot accept (NUL)")
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise JsonRejected(f"nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    if "\x00" in key:
                        raise JsonRejected(f"a key in {path} contains NUL")
                    stack.append((child, depth + 1, f"{path}.{key}"))
            else:
                stack.extend((child, depth + 1, f"{path}.{i}") for i, child in enumerate(item))


def loads_json(data: str | bytes) -> Any:
    """Parse JSON, refusing NaN/Infinity, integers beyond 64 bits, nesting beyond
    :data:`MAX_JSON_DEPTH` and text holding NUL."""
    try:
        value = json.loads(
            data, parse_constant=_refuse_constant, parse_float=_finite, parse_int=_bounded
        )
    except RecursionError:
        raise JsonRejected(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    _check_tree(value)
    return value


class SpocJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_json(s)
