"""The one interface every lock vendor's code handling implements (the implementations are in providers/)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from homeassistant.exceptions import ServiceValidationError

from ..api.errors import ApiError, NotFoundError
from ..const import DOMAIN
from .records import CodeRecord, CodeTarget, NewCode, Outcome


def validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated error about the action's input."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


class RevokeUnverifiedError(Exception):
    """The vendor says the code is not there, and that cannot be checked: it may still open the door."""


async def confirm_gone(err: NotFoundError, still_listed: Callable[[], Awaitable[bool]]) -> None:
    """Accept a 404 on removal only when a list read from the vendor shows the code gone.

    A 404 may mean the code is gone, or that the path (or a proxy in front of it) is wrong while the PIN still
    opens the door; a successful list that lacks the code tells the two apart.

    Raises:
        RevokeUnverifiedError: The list still shows the code, or could not be read.
    """
    try:
        listed = await still_listed()
    except ApiError as read_err:
        raise RevokeUnverifiedError(f"{err}; the lock's codes could not be read: {read_err}") from err
    if listed:
        raise RevokeUnverifiedError(f"{err}, yet the code is still listed") from err


class CodeAdapter(ABC):
    """How one vendor creates, checks, changes and removes a code (every method may raise ApiError)."""

    vendor: str
    can_look_up: bool = True
    """Whether a code whose id is not known (``provisional``) can be found by what it carries upstream."""

    def check_create(self, target: CodeTarget, *, name: str, booking_id: str | None) -> None:  # noqa: B027
        """Refuse (ServiceValidationError) a code this lock cannot take, before anything is sent."""

    async def existing_codes(self, target: CodeTarget) -> set[str]:
        """PINs already on the lock, where the vendor lets us read them."""
        return set()

    @abstractmethod
    async def create(self, target: CodeTarget, new: NewCode) -> Outcome:
        """Put the new code on the lock for its window; the vendor's id and how far it got.

        Raises a refusal (see ``cleanup.REFUSALS``) only when nothing stays on the lock; anything else means
        the code may be there, and the engine looks for it (by ``new.ref``, or the name and PIN).
        """

    @abstractmethod
    async def remove(self, target: CodeTarget, record: CodeRecord, *, keep_history: bool) -> None:
        """Take the code off the lock (``keep_history``: deactivate where the vendor can, not delete)."""

    @abstractmethod
    async def update_window(
        self, target: CodeTarget, record: CodeRecord, starts_at: datetime, ends_at: datetime
    ) -> Outcome:
        """Move the code's window, keeping its PIN."""

    async def statuses(self, target: CodeTarget, records: Sequence[CodeRecord]) -> dict[str, Outcome]:
        """The current outcome per ``code_id`` of ``records`` (all on ``target``); missing: no news.

        A ``provisional`` record (its vendor id not known) is looked up by what it carries (its name and
        PIN, or its ``ref``): when found, its outcome has the vendor's id; when not, it is missing.
        """
        return {}
