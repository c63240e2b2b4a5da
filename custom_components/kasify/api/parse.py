"""Typed readers for JSON objects.

Upstream bodies are untrusted: unknown fields are ignored, missing optional fields become ``None``,
and a value of the wrong type raises :class:`MalformedResponseError` naming the field, instead of a
``KeyError`` or ``TypeError`` deep inside an entity.

:class:`Reader`'s methods are named after the type they return (``str``, ``int``, ``bool``,
``datetime``), which shadows those names inside the class body, so annotations there spell the
types out as ``builtins.str`` and ``dt.datetime``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
import datetime as dt
from typing import Any

from .errors import MalformedResponseError

type JsonObject = Mapping[str, Any]


def as_object(value: Any, where: str) -> JsonObject:
    """Return ``value`` if it is a JSON object."""
    if not isinstance(value, Mapping):
        raise MalformedResponseError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def as_list(value: Any, where: str) -> list[Any]:
    """Return ``value`` if it is a JSON array."""
    if not isinstance(value, list):
        raise MalformedResponseError(f"{where}: expected an array, got {type(value).__name__}")
    return value


class Reader:
    """Read typed fields from one JSON object; ``where`` names it in error messages."""

    __slots__ = ("_obj", "_where")

    def __init__(self, obj: Any, where: builtins.str) -> None:
        """Wrap ``obj``, which must be a JSON object."""
        self._obj = as_object(obj, where)
        self._where = where

    @property
    def where(self) -> builtins.str:
        """What the object is, for error messages (``GET /path`` and the keys into it)."""
        return self._where

    def _wrong(self, key: builtins.str, expected: builtins.str) -> MalformedResponseError:
        value = self._obj.get(key)
        return MalformedResponseError(f"{self._where}.{key}: expected {expected}, got {type(value).__name__}")

    def opt_str(self, key: builtins.str) -> builtins.str | None:
        """An optional string (numbers are accepted as ids and turned into text)."""
        value = self._obj.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self._wrong(key, "a string")

    def str(self, key: builtins.str) -> builtins.str:
        """A required string."""
        value = self.opt_str(key)
        if value is None:
            raise MalformedResponseError(f"{self._where}.{key}: missing")
        return value

    def opt_int(self, key: builtins.str) -> builtins.int | None:
        """An optional integer (booleans are refused)."""
        value = self._obj.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise self._wrong(key, "an integer")

    def int(self, key: builtins.str, default: builtins.int | None = None) -> builtins.int:
        """A required integer, or ``default`` when it is missing."""
        value = self.opt_int(key)
        if value is None:
            if default is None:
                raise MalformedResponseError(f"{self._where}.{key}: missing")
            return default
        return value

    def opt_bool(self, key: builtins.str) -> builtins.bool | None:
        """An optional boolean."""
        value = self._obj.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self._wrong(key, "a boolean")

    def bool(self, key: builtins.str, default: builtins.bool = False) -> builtins.bool:
        """A boolean, ``default`` when missing."""
        value = self.opt_bool(key)
        return default if value is None else value

    def opt_datetime(self, key: builtins.str) -> dt.datetime | None:
        """An optional ISO-8601 instant; naive values are taken as UTC."""
        value = self._obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "an ISO-8601 date-time")
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as err:
            raise MalformedResponseError(
                f"{self._where}.{key}: not an ISO-8601 date-time: {value!r}"
            ) from err
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)

    def unzoned(self, key: builtins.str) -> dt.date | dt.datetime | None:
        """The value of ``key`` when it names no zone: a plain date, or a date-time without an offset.

        Such a value is a wall-clock time somewhere the API does not say; :meth:`opt_datetime` reads it as
        UTC, a guess the caller may replace. ``None`` when the value carries an offset (or is absent).
        """
        value = self._obj.get(key)
        if not isinstance(value, str):
            return None
        if len(value.strip()) == 10:
            return self.opt_date(key)
        try:
            raw = dt.datetime.fromisoformat(value)
        except ValueError as err:
            raise MalformedResponseError(
                f"{self._where}.{key}: not an ISO-8601 date-time: {value!r}"
            ) from err
        return raw if raw.tzinfo is None else None

    def datetime(self, key: builtins.str) -> dt.datetime:
        """A required ISO-8601 instant."""
        value = self.opt_datetime(key)
        if value is None:
            raise MalformedResponseError(f"{self._where}.{key}: missing")
        return value

    def opt_date(self, key: builtins.str) -> dt.date | None:
        """An optional date; a full date-time is cut to its date."""
        value = self._obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "an ISO-8601 date")
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError as err:
            raise MalformedResponseError(f"{self._where}.{key}: not an ISO-8601 date: {value!r}") from err

    def opt_object(self, key: builtins.str) -> Reader | None:
        """An optional nested object, as a reader."""
        value = self._obj.get(key)
        if value is None:
            return None
        return Reader(value, f"{self._where}.{key}")

    def objects(self, key: builtins.str, *, required: builtins.bool = False) -> list[Reader]:
        """A list of objects; missing (or ``null``) is an empty list, or an error when ``required``."""
        value = self._obj.get(key)
        if value is None:
            if required:
                raise MalformedResponseError(f"{self._where}.{key}: missing")
            return []
        items = as_list(value, f"{self._where}.{key}")
        return [Reader(item, f"{self._where}.{key}[{i}]") for i, item in enumerate(items)]
