"""Request parsing: JSON bodies with per-field validation, query parameters and pagination."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
import json
from typing import Any

from aiohttp import web

from .clock import parse_iso
from .errors import BadRequestError, ValidationFailedError

type Json = dict[str, Any]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


async def read_json(request: web.Request) -> Json:
    """The request body as a JSON object (an empty body is ``{}``).

    Raises:
        BadRequestError: When the body is not JSON or not an object.
    """
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise BadRequestError("The request body is not valid JSON") from err
    if not isinstance(data, dict):
        raise BadRequestError("The request body must be a JSON object")
    return data


class Body:
    """Typed, validating access to a JSON object; problems collect in :attr:`errors` (422 ``fields``)."""

    def __init__(self, data: Mapping[str, Any], allowed: Collection[str] | None = None) -> None:
        """Wrap ``data``; keys outside ``allowed`` (when given) are reported as unknown."""
        self.data = data
        self.errors: dict[str, list[str]] = {}
        if allowed is not None:
            for key in data:
                if key not in allowed:
                    self.add(key, "unknown or read-only field")

    def add(self, key: str, message: str) -> None:
        """Record a problem with ``key``."""
        self.errors.setdefault(key, []).append(message)

    def has(self, key: str) -> bool:
        """Whether the body carries ``key`` (even as ``null``)."""
        return key in self.data

    def check(self) -> None:
        """Raise the collected problems.

        Raises:
            ValidationFailedError: When any field was invalid.
        """
        if self.errors:
            raise ValidationFailedError(self.errors)

    def _missing(self, key: str, required: bool) -> bool:
        if self.data.get(key) is None:
            if required:
                self.add(key, "is required")
            return True
        return False

    def text(self, key: str, *, required: bool = False, max_length: int = 500) -> str | None:
        """A string field; required strings must not be blank."""
        if self._missing(key, required):
            return None
        value = self.data[key]
        if not isinstance(value, str):
            self.add(key, "must be a string")
            return None
        if required and not value.strip():
            self.add(key, "must not be blank")
            return None
        if len(value) > max_length:
            self.add(key, f"must be at most {max_length} characters")
            return None
        return value

    def integer(
        self, key: str, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        """An integer field within optional bounds."""
        if self._missing(key, required):
            return None
        value = self.data[key]
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(key, "must be an integer")
            return None
        if minimum is not None and value < minimum:
            self.add(key, f"must be at least {minimum}")
            return None
        if maximum is not None and value > maximum:
            self.add(key, f"must be at most {maximum}")
            return None
        return value

    def boolean(self, key: str) -> bool | None:
        """A boolean field."""
        if self._missing(key, False):
            return None
        value = self.data[key]
        if not isinstance(value, bool):
            self.add(key, "must be a boolean")
            return None
        return value

    def instant(self, key: str, *, required: bool = False) -> datetime | None:
        """An ISO-8601 instant with an offset."""
        if self._missing(key, required):
            return None
        value = self.data[key]
        if not isinstance(value, str):
            self.add(key, "must be an ISO-8601 date-time string")
            return None
        try:
            return parse_iso(value)
        except ValueError:
            self.add(key, "must be an ISO-8601 date-time with a UTC offset")
            return None

    def choice(self, key: str, choices: Sequence[str], *, required: bool = False) -> str | None:
        """A string field limited to ``choices``."""
        value = self.text(key, required=required)
        if value is not None and value not in choices:
            self.add(key, f"must be one of: {', '.join(choices)}")
            return None
        return value

    def text_list(self, key: str, *, required: bool = False) -> list[str] | None:
        """A list of strings."""
        if self._missing(key, required):
            return None
        value = self.data[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.add(key, "must be a list of strings")
            return None
        return list(value)


def query_datetime(request: web.Request, key: str) -> datetime | None:
    """An optional ISO-8601 query parameter.

    Raises:
        ValidationFailedError: When it is present but not an instant with an offset.
    """
    value = request.query.get(key)
    if value is None or value == "":
        return None
    try:
        return parse_iso(value)
    except ValueError as err:
        raise ValidationFailedError({key: ["must be an ISO-8601 date-time with a UTC offset"]}) from err


def query_int(
    request: web.Request, key: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    """An integer query parameter within bounds.

    Raises:
        ValidationFailedError: When it is not an integer or out of bounds.
    """
    value = request.query.get(key)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as err:
        raise ValidationFailedError({key: ["must be an integer"]}) from err
    if number < minimum:
        raise ValidationFailedError({key: [f"must be at least {minimum}"]})
    if maximum is not None and number > maximum:
        raise ValidationFailedError({key: [f"must be at most {maximum}"]})
    return number


def page_params(request: web.Request) -> tuple[int, int]:
    """``page`` (0-based, default 0) and ``size`` (default 20, 1..100) from the query.

    Raises:
        ValidationFailedError: On a negative page or a size outside 1..100.
    """
    page = query_int(request, "page", 0, minimum=0)
    size = query_int(request, "size", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    return page, size


def paged(
    key: str, items: Sequence[Any], page: int, size: int, render: Callable[[Any], Any] | None = None
) -> Json:
    """One page of ``items`` under ``key`` with ``page``, ``size`` and ``total``.

    ``render`` shapes the page's items (only those) for the wire.
    """
    start = page * size
    chosen = list(items[start : start + size])
    if render is not None:
        chosen = [render(item) for item in chosen]
    return {key: chosen, "page": page, "size": size, "total": len(items)}
