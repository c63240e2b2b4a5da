"""Reading an endpoint the upstream's API does not document, whose path and query are inferred.

A 404 or a 400 from such an endpoint says "not a path or query this API knows": the feature it serves is off,
not the whole account. Every other failure (refused credentials, 429, 5xx, timeouts, a 422) is raised as is.
"""

from __future__ import annotations

from collections.abc import Awaitable
from http import HTTPStatus

from .errors import ApiError, NotFoundError, ValidationError
from .models import EndpointNotUnderstood


def not_understood(err: ApiError) -> bool:
    """Whether ``err`` is a 404, or a 400 (a ``422`` is a refused value, not an unknown query)."""
    return isinstance(err, NotFoundError) or (
        isinstance(err, ValidationError) and err.status == HTTPStatus.BAD_REQUEST
    )


async def read_inferred[T](
    endpoint: str, call: Awaitable[list[T]]
) -> tuple[list[T], EndpointNotUnderstood | None]:
    """The listing ``call`` reads, or nothing and why, when ``endpoint`` was not understood.

    ``endpoint`` names it for people (``"GET /bookings"``): method and path, no ids, no query.
    """
    try:
        return await call, None
    except ApiError as err:
        if not not_understood(err):
            raise
        return [], EndpointNotUnderstood(endpoint, int(err.status or HTTPStatus.NOT_FOUND))
