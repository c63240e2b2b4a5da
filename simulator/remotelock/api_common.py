"""What every RemoteLock route shares: JSON answers, pages with ``meta``, query filters and request bodies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
import json
import math
from typing import Any, Final

from aiohttp import web

from simulator.kasify_state import Json

from .errors import GeneralError
from .records import local_text

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
type Routes = list[tuple[str, str, Handler]]

MAX_PER_PAGE: Final = 50
DEFAULT_PER_PAGE: Final = 25


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.json_response(data, status=status)


def _page_params(request: web.Request) -> tuple[int, int]:
    def number(key: str, default: int) -> int:
        raw = request.query.get(key)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise GeneralError(422, "invalid_parameter", f"{key} must be an integer") from None

    page, per_page = number("page", 1), number("per_page", DEFAULT_PER_PAGE)
    if page < 1:
        raise GeneralError(422, "invalid_parameter", "page must be at least 1")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise GeneralError(422, "invalid_parameter", f"per_page must be between 1 and {MAX_PER_PAGE}")
    return page, per_page


def collection(request: web.Request, items: Sequence[Json]) -> web.Response:
    """One page of ``items`` for ``?page&per_page`` with ``meta`` (nothing beyond the 10,000th item)."""
    page, per_page = _page_params(request)
    start = (page - 1) * per_page
    return json_response(
        {
            "data": list(items[start : start + per_page]) if page * per_page <= 10_000 else [],
            "meta": {
                "page": page,
                "per_page": per_page,
                "total_pages": math.ceil(len(items) / per_page),
                "total_count": len(items),
            },
        }
    )


def values(request: web.Request, key: str) -> list[str]:
    """A query filter given as ``key=v`` or ``key[]=v1&key[]=v2``."""
    return [*request.query.getall(key, []), *request.query.getall(f"{key}[]", [])]


async def read_body(request: web.Request) -> tuple[Json, Json]:
    """The JSON body and its ``attributes`` object."""
    raw = await request.read()
    if not raw.strip():
        return {}, {}
    if request.content_type != "application/json":
        raise GeneralError(415, "unsupported_media_type", "Content-Type must be application/json")
    try:
        data = json.loads(raw)
    except ValueError:
        raise GeneralError(400, "bad_request", "The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise GeneralError(400, "bad_request", "The request body must be a JSON object")
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise GeneralError(400, "bad_request", "attributes must be an object")
    return data, attributes


def local_attribute(attributes: Json, key: str, errors: list[tuple[str | None, str]]) -> str | None:
    """A lock-local time attribute as served (``None`` when empty); a problem is added to ``errors``."""
    value = attributes.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.append((key, "is invalid"))
        return None
    try:
        return local_text(value)
    except ValueError:
        errors.append((key, "is invalid"))
        return None
