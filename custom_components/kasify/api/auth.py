"""Single-flight renewal of a credential that concurrent requests share (an access token).

:class:`SingleFlightToken` keeps the current credential and renews it by one caller at a time: while a
renewal runs, every other caller waits for it and then uses its result. When the upstream refuses a
credential, :meth:`SingleFlightToken.renew` is called with the refused secret; requests refused with the same
secret at the same time cause exactly one renewal, the others get the new credential.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


def _always_fresh(_value: object) -> bool:
    return True


class SingleFlightToken[T]:
    """A shared credential, renewed by one caller at a time.

    ``renew`` obtains a new value from the previous one (``None`` the first time; a refresh-token grant needs
    it); ``secret`` gives the text a request sends (to compare with a refused one); ``fresh`` tells whether a
    value may still be sent (e.g. not about to expire).

    A value that is being renewed is not handed out again, even when the renewal fails: the next caller
    renews once more (from that same previous value).
    """

    def __init__(
        self,
        renew: Callable[[T | None], Awaitable[T]],
        *,
        secret: Callable[[T], str],
        fresh: Callable[[T], bool] = _always_fresh,
        value: T | None = None,
    ) -> None:
        """Start with ``value`` (``None``: renew before the first use)."""
        self._renew = renew
        self._secret = secret
        self._fresh = fresh
        self._value = value
        self._usable = value is not None
        self._lock = asyncio.Lock()

    @property
    def value(self) -> T | None:
        """The latest value (``None`` before the first renewal), also while it is being renewed."""
        return self._value

    def store(self, value: T) -> None:
        """Use ``value`` from now on (for a ``renew`` that must keep its new value although it then fails)."""
        self._value = value
        self._usable = True

    def _current(self) -> T | None:
        value = self._value
        return value if value is not None and self._usable and self._fresh(value) else None

    async def get(self) -> T:
        """The current value; when there is none or it is no longer fresh, renewed first (once for all)."""
        value = self._current()
        if value is not None:
            return value
        async with self._lock:
            value = self._current()  # renewed while this call waited
            return value if value is not None else await self._renew_locked()

    async def renew(self, refused: str | None = None) -> T:
        """Renew now and return the new value.

        With ``refused`` (a secret the upstream just refused), the value is only renewed when it still is that
        one: when another caller has already replaced it, that replacement is returned.
        """
        async with self._lock:
            value = self._current()
            if refused is not None and value is not None and self._secret(value) != refused:
                return value
            return await self._renew_locked()

    async def _renew_locked(self) -> T:
        self._usable = False
        value = await self._renew(self._value)
        self.store(value)
        return value
