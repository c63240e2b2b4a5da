"""Async client for the Nuki Web API (``https://api.nuki.io``).

Facts come from the Nuki Web API 1.5.0 documentation and its Smart Hosting page. The client takes
an injected :class:`aiohttp.ClientSession` (Home Assistant's shared session) and never closes it. Every
path lives in :class:`Paths`.

Request costs: one ``GET /smartlock`` returns every lock of the account with its live state, so a refresh
of N locks is 1 request, plus 1 for the account-wide ``GET /smartlock/log``
(:meth:`NukiClient.fetch_snapshot`).

Errors map into the shared exceptions. A body that names the missing Smart Hosting subscription
(``{"error": ...}`` or ``{"detailMessage": ...}``, whatever the status) is
:class:`SmartHostingRequiredError`. Writes (actions, keypad code create/update/delete) count as done only
when a 2xx answer's body names no refusal: Nuki may send one with 200, and a ``detailMessage`` or
``error`` text then raises as an error answer would (the Smart Hosting one as above, any other text as
:class:`ApiError` naming it); 402 "Account not payed" and 426 "upgrade required" are
:class:`SubscriptionRequiredError`; 405 is :class:`NotSupportedError`; 423 is :class:`BusyError`; 400/422
are :class:`ValidationError`, with the message from ``detailMessage`` or the framework's
``{"code", "reasonPhrase", "description"}`` status object and ``fields`` from "for parameter 'x'"; the
rest map as for every client (``error_for_status``). Tokens and keypad PINs are scrubbed from
error messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import aiohttp

from .errors import ApiError, OperationPendingError, ValidationError
from .http import HttpTransport, quote_segment, redacting
from .nuki_keypad import (
    check_keypad_window,
    generate_keypad_code,
    keypad_code_problem,
    nuki_time,
    validate_keypad_code,
    validate_keypad_name,
)
from .nuki_models import (
    ACTIVE_SUBSCRIPTION_STATES,
    DEFAULT_AUTH_POLL_DELAYS,
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    KEYPAD_CODE_AUTH_TYPE,
    KEYPAD_NAME_MAX_LENGTH,
    MAX_LOG_LIMIT,
    SMART_HOSTING_MARKER,
    NukiAccount,
    NukiAction,
    NukiDeviceType,
    NukiEvent,
    NukiKeypadCode,
    NukiLogEntry,
    NukiServerState,
    NukiSmartLock,
    NukiSnapshot,
)
from .nuki_parse import (
    error_for_answer,
    error_message,
    is_smart_hosting_message,
    parse_account,
    parse_keypad_code,
    parse_log_entry,
    parse_smartlock,
    refusal_for_answer,
)
from .parse import Reader, as_list
from .turns import LoopTurns

type Sleep = Callable[[float], Awaitable[None]]


def _seg(value: int | str) -> str:
    return quote_segment(str(value))


class Paths:
    """Every Nuki Web API path the client uses."""

    ACCOUNT = "/account"
    SMARTLOCKS = "/smartlock"
    LOGS = "/smartlock/log"

    @staticmethod
    def smartlock(smartlock_id: int | str) -> str:
        """One lock."""
        return f"/smartlock/{_seg(smartlock_id)}"

    @staticmethod
    def action(smartlock_id: int | str) -> str:
        """Lock actions (``{"action", "option"}``)."""
        return f"/smartlock/{_seg(smartlock_id)}/action"

    @staticmethod
    def auths(smartlock_id: int | str) -> str:
        """A lock's authorizations (list, create)."""
        return f"/smartlock/{_seg(smartlock_id)}/auth"

    @staticmethod
    def auth(smartlock_id: int | str, auth_id: str) -> str:
        """One authorization of a lock."""
        return f"/smartlock/{_seg(smartlock_id)}/auth/{_seg(auth_id)}"

    @staticmethod
    def smartlock_logs(smartlock_id: int | str) -> str:
        """One lock's log."""
        return f"/smartlock/{_seg(smartlock_id)}/log"


class NukiClient:
    """Nuki Web API client for one API token.

    Every method makes exactly one request unless its docstring says otherwise.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        auth_poll_delays: Sequence[float] = DEFAULT_AUTH_POLL_DELAYS,
        sleep: Sleep = asyncio.sleep,
        turns: LoopTurns | None = None,
    ) -> None:
        """Use ``session`` (not owned) with the bearer ``token``.

        Args:
            session: The shared aiohttp session; never closed here.
            token: Nuki Web API token (or OAuth2 access token).
            base_url: API root; tests point it at the simulator.
            timeout: Seconds per request.
            auth_poll_delays: Waits before each look for a new keypad code (see :meth:`create_keypad_code`).
            sleep: How to wait those delays (tests inject one that moves a simulated clock).
            turns: The event loop's turn budget to parse long listings within (a budget of its own by
                default).
        """
        self._http = HttpTransport(
            session,
            timeout=timeout,
            base_url=base_url,
            error_for=error_for_answer,
            headers={"Accept": "application/json"},
            bearer=token,
        )
        self._auth_poll_delays = tuple(auth_poll_delays)
        self._sleep = sleep
        self._turns = turns if turns is not None else LoopTurns()

    @property
    def base_url(self) -> str:
        """The API root the client talks to."""
        return self._http.base_url

    # -- transport --------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        lock_id: int | str | None = None,
        secrets_: Collection[str] = (),
    ) -> Any:
        """Perform one request and return the decoded JSON body (``None`` for 204 or an empty body)."""
        request = self._http.request(method, path, params=params, json_body=json_body, secrets=secrets_)
        return await self._http.request_json(request, partial(error_for_answer, lock_id=lock_id))

    async def _write(
        self,
        method: str,
        path: str,
        *,
        lock_id: int | str,
        json_body: Any = None,
        secrets_: Collection[str] = (),
    ) -> None:
        """Perform one action or authorization write; only a 2xx answer that refuses nothing is success.

        Raises:
            ApiError: An error status, or a 2xx answer whose body names a refusal (:func:`refusal_for_answer`:
                :class:`SmartHostingRequiredError` for the Smart Hosting one), secrets redacted.
        """
        request = self._http.request(method, path, json_body=json_body, secrets=secrets_)
        response = await self._http.send(request)
        self._http.decode_json(request, response, partial(error_for_answer, lock_id=lock_id))
        with redacting(self._http.secrets_of(request)):
            refusal = refusal_for_answer(
                response.status, response.text, response.headers, request.where, lock_id
            )
            if refusal is not None:
                raise refusal

    async def _list(self, path: str, **kwargs: Any) -> list[Any]:
        return as_list(await self._request("GET", path, **kwargs), f"GET {path}")

    # -- account and locks ------------------------------------------------------------------------

    async def get_account(self) -> NukiAccount:
        """``GET /account`` — the account behind the token (its id is the config entry's unique id)."""
        body = await self._request("GET", Paths.ACCOUNT)
        return parse_account(Reader(body, f"GET {Paths.ACCOUNT}"))

    async def list_smartlocks(self) -> list[NukiSmartLock]:
        """``GET /smartlock`` — every device of the account with live state, in one request."""
        where = f"GET {Paths.SMARTLOCKS}"
        items = await self._list(Paths.SMARTLOCKS)
        locks = []
        for i, item in enumerate(items):  # hundreds of locks: parsed within the loop's turn budget
            await self._turns.take()
            locks.append(parse_smartlock(item, f"{where}[{i}]"))
        return locks

    async def get_smartlock(self, smartlock_id: int | str) -> NukiSmartLock:
        """``GET /smartlock/{id}`` — one device (use after an action to refresh only that lock)."""
        path = Paths.smartlock(smartlock_id)
        return parse_smartlock(await self._request("GET", path, lock_id=smartlock_id), f"GET {path}")

    async def fetch_snapshot(self, *, logs_since: datetime | None = None, logs: bool = True) -> NukiSnapshot:
        """Read the account for one refresh: ``GET /smartlock`` (+ ``GET /smartlock/log``), concurrently.

        That is 1 request for any number of locks, plus 1 for the newest :data:`MAX_LOG_LIMIT` log entries
        of all locks (since ``logs_since``, inclusive) when ``logs`` is true. If either request fails, the
        other is cancelled and that failure is raised as is.
        """
        try:
            async with asyncio.TaskGroup() as group:
                locks_task = group.create_task(self.list_smartlocks())
                logs_task = group.create_task(self.list_logs(since=logs_since)) if logs else None
        except ExceptionGroup as group_error:
            raise group_error.exceptions[0] from None
        entries = logs_task.result() if logs_task is not None else []
        return NukiSnapshot(locks={lock.id: lock for lock in locks_task.result()}, logs=tuple(entries))

    # -- actions ----------------------------------------------------------------------------------

    async def action(self, smartlock_id: int | str, action: NukiAction | int, option: int = 0) -> None:
        """``POST /smartlock/{id}/action`` → 204; the new state shows up later (states 2/4/7 meanwhile).

        ``option`` is Nuki's bitmask (2 force, 4 full lock); 0 sends none.

        Raises:
            SmartHostingRequiredError: The lock has no active Smart Hosting subscription (also when Nuki
                says so with status 200).
            ApiError: Any other refusal (a 2xx answer with an ``error``/``detailMessage`` text included).
        """
        body: dict[str, int] = {"action": int(action)}
        if option:
            body["option"] = option
        await self._write("POST", Paths.action(smartlock_id), json_body=body, lock_id=smartlock_id)

    async def lock(self, smartlock_id: int | str) -> None:
        """Lock (Opener: deactivate ring to open)."""
        await self.action(smartlock_id, NukiAction.LOCK)

    async def unlock(self, smartlock_id: int | str) -> None:
        """Unlock (Opener: activate ring to open)."""
        await self.action(smartlock_id, NukiAction.UNLOCK)

    async def unlatch(self, smartlock_id: int | str) -> None:
        """Unlatch, HA's "open" (Opener: open the door)."""
        await self.action(smartlock_id, NukiAction.UNLATCH)

    # -- logs -------------------------------------------------------------------------------------

    async def list_logs(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: str | None = None,
        limit: int = MAX_LOG_LIMIT,
    ) -> list[NukiLogEntry]:
        """``GET /smartlock/log`` — log entries of every lock, newest first.

        ``since``/``until`` bound the date (``fromDate``/``toDate``, inclusive); ``before_id`` returns only
        entries older than that entry (the API's cursor: pass the last id of a page to get the next one);
        ``limit`` is clamped to 1-50.
        """
        return await self._logs(Paths.LOGS, since, until, before_id, limit, None)

    async def list_smartlock_logs(
        self,
        smartlock_id: int | str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: str | None = None,
        limit: int = MAX_LOG_LIMIT,
    ) -> list[NukiLogEntry]:
        """``GET /smartlock/{id}/log`` — one lock's entries, as :meth:`list_logs`."""
        path = Paths.smartlock_logs(smartlock_id)
        return await self._logs(path, since, until, before_id, limit, smartlock_id)

    async def _logs(
        self,
        path: str,
        since: datetime | None,
        until: datetime | None,
        before_id: str | None,
        limit: int,
        lock_id: int | str | None,
    ) -> list[NukiLogEntry]:
        params: dict[str, str | int] = {"limit": max(1, min(limit, MAX_LOG_LIMIT))}
        if since is not None:
            params["fromDate"] = nuki_time(since)
        if until is not None:
            params["toDate"] = nuki_time(until)
        if before_id:
            params["id"] = before_id
        where = f"GET {path}"
        items = await self._list(path, params=params, lock_id=lock_id)
        entries = [parse_log_entry(Reader(item, f"{where}[{i}]")) for i, item in enumerate(items)]
        return sorted(entries, key=lambda entry: entry.date, reverse=True)

    # -- keypad codes -----------------------------------------------------------------------------

    async def list_keypad_codes(
        self, smartlock_id: int | str, *, include_codes: bool = False
    ) -> list[NukiKeypadCode]:
        """``GET /smartlock/{id}/auth?types=13`` — the lock's keypad codes (PINs with ``include_codes``)."""
        path = Paths.auths(smartlock_id)
        items = await self._list(path, params={"types": KEYPAD_CODE_AUTH_TYPE}, lock_id=smartlock_id)
        codes = []
        for i, item in enumerate(items):
            where = f"GET {path}[{i}]"
            if Reader(item, where).int("type", KEYPAD_CODE_AUTH_TYPE) == KEYPAD_CODE_AUTH_TYPE:
                codes.append(parse_keypad_code(item, where, include_code=include_codes))
        return codes

    async def find_keypad_code(
        self, smartlock_id: int | str, *, name: str, code: int | str
    ) -> NukiKeypadCode | None:
        """The lock's keypad code with this name and PIN (with its PIN), or ``None`` (1 request)."""
        wanted_name, wanted_code = name.strip(), int(str(code).strip())
        for item in await self.list_keypad_codes(smartlock_id, include_codes=True):
            if item.code == wanted_code and item.name.strip() == wanted_name:
                return item
        return None

    async def create_keypad_code(
        self,
        smartlock_id: int | str,
        *,
        name: str,
        code: int | str,
        allowed_from: datetime | None = None,
        allowed_until: datetime | None = None,
        allowed_weekdays: int = 127,
        allowed_from_time: int = 0,
        allowed_until_time: int = 0,
        poll_delays: Sequence[float] | None = None,
    ) -> NukiKeypadCode:
        """Create a keypad code and return it, with its id and PIN.

        ``PUT /smartlock/{id}/auth`` (type 13, ``remoteAllowed`` false) answers 204 without the id, so the
        code is then looked for with ``GET /smartlock/{id}/auth?types=13`` (matching name and PIN) after
        each of ``poll_delays`` (default: the client's) until it shows up: 1 + up to ``len(poll_delays)``
        requests. A look that fails counts as not there yet: the code was accepted all the same.
        ``allowed_weekdays`` is Nuki's bitmask (Mon 64 ... Sun 1, 127 every day); the daily window is in
        minutes after midnight (0/0: all day).

        Raises:
            ValidationError: Before any request, when the name (1-20 characters), the PIN (6 digits 1-9, not
                starting with 12) or the window is invalid; or when the API refuses them (e.g. the lock has no
                keypad, or the PIN is already used on it).
            SmartHostingRequiredError: The lock has no active Smart Hosting subscription (also when Nuki
                says so with status 200; the code is then not looked for).
            ApiError: Any other refusal, e.g. a 2xx answer with another ``error`` text.
            OperationPendingError: Accepted, but it did not show up in time (or could not be looked for); it
                may still appear later (look again with :meth:`find_keypad_code`).
        """
        clean_name = validate_keypad_name(name)
        pin = validate_keypad_code(code)
        check_keypad_window(
            allowed_from, allowed_until, allowed_weekdays, allowed_from_time, allowed_until_time
        )
        fields = {
            "name": clean_name,
            "type": KEYPAD_CODE_AUTH_TYPE,
            "code": pin,
            "remoteAllowed": False,
            "allowedWeekDays": allowed_weekdays,
            "allowedFromTime": allowed_from_time,
            "allowedUntilTime": allowed_until_time,
        }
        body = _with_window(fields, allowed_from, allowed_until)
        path = Paths.auths(smartlock_id)
        await self._write("PUT", path, json_body=body, lock_id=smartlock_id, secrets_=(str(pin),))
        delays = self._auth_poll_delays if poll_delays is None else tuple(poll_delays)
        return await self._look_for_new_code(smartlock_id, clean_name, pin, delays)

    async def _look_for_new_code(
        self, smartlock_id: int | str, name: str, pin: int, delays: Sequence[float]
    ) -> NukiKeypadCode:
        """The code just accepted, looked for after each delay (OperationPendingError if it never shows)."""
        failed: ApiError | None = None
        for delay in delays:
            await self._sleep(delay)
            try:
                found = await self.find_keypad_code(smartlock_id, name=name, code=pin)
            except ApiError as err:
                failed = err
                continue
            if found is not None:
                return found
        why = f" (the last look failed: {failed})" if failed is not None else ""
        raise OperationPendingError(
            f"PUT {Paths.auths(smartlock_id)}: the keypad code {name!r} was accepted but did not show up "
            f"after {len(delays)} checks{why}",
            lock_id=str(smartlock_id),
        )

    async def update_keypad_code(
        self,
        smartlock_id: int | str,
        auth_id: str,
        *,
        name: str,
        allowed_from: datetime | None = None,
        allowed_until: datetime | None = None,
        enabled: bool | None = None,
    ) -> None:
        """``POST /smartlock/{id}/auth/{authId}`` → 204: change a code's window (the PIN stays; 1 request).

        ``name`` is required by the API (send the code's current name to keep it).

        Raises:
            ValidationError: Before any request, for an empty or too long name or a window that ends before
                it starts; or when the API refuses the change.
            NotFoundError: The code is gone.
            BusyError: The lock is busy with another operation (423).
            SmartHostingRequiredError: No active Smart Hosting subscription (also sent with status 200).
        """
        clean_name = validate_keypad_name(name)
        if allowed_from is not None and allowed_until is not None and allowed_until <= allowed_from:
            raise ValidationError(
                "Invalid keypad code window", fields={"allowed_until": ["must be after the start"]}
            )
        body = _with_window({"name": clean_name}, allowed_from, allowed_until)
        if enabled is not None:
            body["enabled"] = enabled
        await self._write("POST", Paths.auth(smartlock_id, auth_id), json_body=body, lock_id=smartlock_id)

    async def delete_keypad_code(self, smartlock_id: int | str, auth_id: str) -> None:
        """``DELETE /smartlock/{id}/auth/{authId}`` → 204 (404 → :class:`NotFoundError`: already gone).

        A refusal sent with a 2xx status raises as :meth:`update_keypad_code`'s does: the code is still there.
        """
        await self._write("DELETE", Paths.auth(smartlock_id, auth_id), lock_id=smartlock_id)


def _with_window(
    fields: dict[str, Any], allowed_from: datetime | None, allowed_until: datetime | None
) -> dict[str, Any]:
    """``fields`` plus the validity window's bounds that are given, in the API's date format."""
    body = dict(fields)
    if allowed_from is not None:
        body["allowedFromDate"] = nuki_time(allowed_from)
    if allowed_until is not None:
        body["allowedUntilDate"] = nuki_time(allowed_until)
    return body


__all__ = [
    "ACTIVE_SUBSCRIPTION_STATES",
    "DEFAULT_AUTH_POLL_DELAYS",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "KEYPAD_CODE_AUTH_TYPE",
    "KEYPAD_NAME_MAX_LENGTH",
    "MAX_LOG_LIMIT",
    "SMART_HOSTING_MARKER",
    "NukiAccount",
    "NukiAction",
    "NukiClient",
    "NukiDeviceType",
    "NukiEvent",
    "NukiKeypadCode",
    "NukiLogEntry",
    "NukiServerState",
    "NukiSmartLock",
    "NukiSnapshot",
    "Paths",
    "Sleep",
    "error_message",
    "generate_keypad_code",
    "is_smart_hosting_message",
    "keypad_code_problem",
    "nuki_time",
    "parse_account",
    "parse_keypad_code",
    "parse_log_entry",
    "parse_smartlock",
    "validate_keypad_code",
]
