"""The Kasify API (``docs/kasify-api.md``) over a :class:`~simulator.kasify_state.KasifyState`.

Mounted under :data:`KASIFY_PREFIX`. Every route needs ``Authorization: Bearer <token>``; errors use the
contract's shape ``{"error", "message", "fields"?}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
import json
import re
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from .clock import parse_iso
from .errors import ApiError, ConflictError, NotFoundError, UnauthorizedError, ValidationFailedError, code_for
from .kasify_state import BOOKING_STATUSES, Json, KasifyState
from .kasify_task_routes import TaskRoutes
from .kasify_views import activity, calendar_events, upcoming_timeline
from .validation import Body, page_params, paged, query_datetime, query_int, read_json

KASIFY_PREFIX: Final = "/kasify/v1"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PROPERTY_BODY: Final = (
    "name",
    "address",
    "city",
    "zip_code",
    "airbnb_ical_url",
    "default_cleaner_id",
    "ses_establishment_code",
    "ses_establishment_type",
    "has_internet",
    "rooms_count",
)
_NEW_BOOKING_BODY: Final = (
    "guest_name",
    "check_in",
    "check_out",
    "guests_count",
    "guest_email",
    "guest_phone",
    "channel",
    "notes",
)
_BOOKING_PATCH: Final = (*_NEW_BOOKING_BODY, "status", "external_reference")
_NULLABLE_BOOKING: Final = frozenset(
    {"guest_email", "guest_phone", "notes", "external_reference", "guests_count"}
)
_SMARTLOCK_BODY: Final = (
    "name",
    "nuki_smartlock_id",
    "nuki_integration_id",
    "unifi_floor_id",
    "unifi_door_id",
)
_PT_ZIP: Final = re.compile(r"^\d{4}-\d{3}$")
_CODE: Final = re.compile(r"^\d{4,8}$")


# Encoded booking pages kept (by query) until a booking changes.
_KEPT_PAGES: Final = 1024


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _no_content() -> web.Response:
    return web.Response(status=204)


def error_payload(status: int, message: str, fields: dict[str, list[str]] | None = None) -> Json:
    """The contract's error object."""
    payload: Json = {"error": code_for(status), "message": message}
    if fields is not None:
        payload["fields"] = fields
    return payload


class KasifyApi(TaskRoutes):
    """The Kasify vendor: routes, bearer auth and error rendering over one :class:`KasifyState`."""

    name = "kasify"
    prefix = KASIFY_PREFIX

    def __init__(
        self, state: KasifyState, *, calendar_url: Callable[[str, str], str | None] | None = None
    ) -> None:
        """Serve ``state``; ``calendar_url(property_id, channel)`` names the feed URL to publish, if any.

        The seeded fleet's iCal URLs point at Airbnb and Booking.com; while the simulator serves its own
        feeds, properties are published with those instead, so a client can really fetch them.
        """
        self.state = state
        self._calendar_url = calendar_url
        self._booking_pages: dict[tuple[Any, ...], tuple[int, bytes]] = {}
        self._encoded: dict[str, tuple[Json, int, str, bytes]] = {}

    def _published(self, record: Json) -> Json:
        if self._calendar_url is None:
            return record
        calendars = []
        for calendar in record.get("calendars") or []:
            url = self._calendar_url(record["id"], str(calendar.get("channel")))
            calendars.append({**calendar, "url": url} if url else calendar)
        return {**record, "calendars": calendars}

    # -- vendor protocol -------------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> bytes:
        """The JSON error body for ``status``."""
        return json.dumps(error_payload(status, message)).encode()

    def summary(self) -> Json:
        """Counts of the state's records, the prefix and the token."""
        return {"prefix": self.prefix, "token": self.state.token, **self.state.summary()}

    def build_app(self) -> web.Application:
        """The sub-application with every contract route."""
        app = web.Application(middlewares=[self._middleware])
        add = app.router.add_route
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/account", self.get_account),
            ("PUT", "/account", self.put_account),
            ("GET", "/properties", self.list_properties),
            ("POST", "/properties", self.create_property),
            ("GET", "/properties/{id}", self.get_property),
            ("PUT", "/properties/{id}", self.put_property),
            ("DELETE", "/properties/{id}", self.delete_property),
            ("GET", "/properties/{id}/smartlocks", self.list_smartlocks),
            ("POST", "/properties/{id}/smartlocks", self.create_smartlock),
            ("DELETE", "/properties/{id}/smartlocks/{lock_id}", self.delete_smartlock),
            ("GET", "/properties/{id}/bookings", self.list_property_bookings),
            ("POST", "/properties/{id}/bookings", self.create_booking),
            ("GET", "/properties/{id}/bookings/current", self.current_booking),
            ("GET", "/properties/{id}/calendar", self.property_calendar),
            ("GET", "/bookings", self.list_bookings),
            ("GET", "/bookings/{id}", self.get_booking),
            ("PATCH", "/bookings/{id}", self.patch_booking),
            ("GET", "/bookings/{id}/checkin", self.get_checkin),
            ("POST", "/bookings/{id}/checkin/guests", self.register_guest),
            ("POST", "/bookings/{id}/access-codes", self.create_access_codes),
            ("DELETE", "/bookings/{id}/access-codes/{code_id}", self.revoke_access_code),
            ("GET", "/calendar/upcoming", self.upcoming_calendar),
            *self.task_routes(),
            ("GET", "/timeline/upcoming", self.upcoming_timeline),
            ("GET", "/timeline/activity", self.activity),
        ]
        for method, path, handler in routes:
            add(method, path, handler)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the bearer token; render :class:`ApiError` and aiohttp errors in the contract's shape."""
        try:
            self._authenticate(request)
            return await handler(request)
        except ApiError as err:
            headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, UnauthorizedError) else None
            return web.json_response(
                error_payload(err.status, err.message, err.fields), status=err.status, headers=headers
            )
        except web.HTTPException as err:
            if err.status < 400:
                raise
            headers = {
                k: v for k, v in err.headers.items() if k.lower() not in ("content-type", "content-length")
            }
            return web.json_response(
                error_payload(err.status, err.reason), status=err.status, headers=headers
            )

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization")
        if not header:
            raise UnauthorizedError("Missing bearer token")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.state.token:
            raise UnauthorizedError("Invalid or expired token")

    # -- account ---------------------------------------------------------------------------------------------

    async def get_account(self, request: web.Request) -> web.Response:
        """``GET /account``."""
        return _json(self.state.account)

    async def put_account(self, request: web.Request) -> web.Response:
        """``PUT /account`` — change name, email, language or timezone."""
        body = Body(await read_json(request), ("name", "email", "language", "timezone"))
        changes = {
            "name": body.text("name", required=True),
            "email": body.text("email"),
            "language": body.text("language"),
            "timezone": body.text("timezone"),
        }
        if changes["timezone"] is not None:
            try:
                ZoneInfo(changes["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                body.add("timezone", "is not a known IANA time zone")
        body.check()
        self.state.account.update({k: v for k, v in changes.items() if v is not None})
        return _json(self.state.account)

    # -- properties ------------------------------------------------------------------------------------------

    async def list_properties(self, request: web.Request) -> web.Response:
        """``GET /properties?page&size``."""
        page, size = page_params(request)
        records = list(self.state.properties.values())
        return _json(paged("properties", records, page, size, self._published))

    async def get_property(self, request: web.Request) -> web.Response:
        """``GET /properties/{id}``."""
        return _json(self._published(self.state.get_property(request.match_info["id"])))

    def _property_body(self, data: Json) -> tuple[Json, Body]:
        """Validate a NewPropertyRequest; return the Property field changes and the body (for its keys)."""
        body = Body(data, _PROPERTY_BODY)
        changes: Json = {
            key: body.text(key, required=True) for key in ("name", "address", "city", "zip_code")
        }
        for key in ("ses_establishment_code", "ses_establishment_type"):
            if body.has(key):
                changes[key] = body.text(key)
        if body.has("has_internet"):
            changes["has_internet"] = body.boolean("has_internet")
        if body.has("rooms_count"):
            changes["rooms_count"] = body.integer("rooms_count", minimum=0, maximum=100)
        if body.has("airbnb_ical_url"):
            body.text("airbnb_ical_url", max_length=2000)
        cleaner_id = body.text("default_cleaner_id")
        if cleaner_id is not None:
            if cleaner_id in self.state.crew:
                changes["default_cleaner"] = dict(self.state.crew[cleaner_id])
            else:
                body.add("default_cleaner_id", "is not a crew member of this account")
        elif body.has("default_cleaner_id"):
            changes["default_cleaner"] = None
        body.check()
        return changes, body

    def _airbnb_calendars(self, calendars: list[Json], url: str | None) -> list[Json]:
        kept = [c for c in calendars if c.get("channel") != "airbnb"]
        if url is None:
            return kept
        synced = self.state.now().date().isoformat()
        feed = {
            "channel": "airbnb",
            "url": url,
            "syncIntervalMinutes": 60,
            "lastSyncAt": synced,
            "lastError": None,
        }
        return [feed, *kept]

    async def create_property(self, request: web.Request) -> web.Response:
        """``POST /properties`` → 201 Property."""
        changes, body = self._property_body(await read_json(request))
        cleaner = changes.pop("default_cleaner", None)
        name = changes.pop("name")
        country = "PT" if _PT_ZIP.match(changes["zip_code"]) else "ES"
        record = self.state.add_property(
            name,
            country=country,
            timezone="Europe/Lisbon" if country == "PT" else "Europe/Madrid",
            team=[cleaner] if cleaner else (),
            default_cleaner=cleaner,
            calendars=self._airbnb_calendars([], body.data.get("airbnb_ical_url")),
            **changes,
        )
        return _json(record, 201)

    async def put_property(self, request: web.Request) -> web.Response:
        """``PUT /properties/{id}`` — omitted optional fields are kept; ``airbnb_ical_url: null`` unlinks."""
        record = self.state.get_property(request.match_info["id"])
        changes, body = self._property_body(await read_json(request))
        cleaner = changes.get("default_cleaner")
        if cleaner and all(member["id"] != cleaner["id"] for member in record["team"]):
            changes["team"] = [*record["team"], cleaner]
        if body.has("airbnb_ical_url"):
            changes["calendars"] = self._airbnb_calendars(record["calendars"], body.data["airbnb_ical_url"])
        return _json(self.state.update_property(record["id"], **changes))

    async def delete_property(self, request: web.Request) -> web.Response:
        """``DELETE /properties/{id}`` → 204 (its bookings, tasks and locks go too)."""
        self.state.remove_property(request.match_info["id"])
        return _no_content()

    # -- smart locks -----------------------------------------------------------------------------------------

    async def list_smartlocks(self, request: web.Request) -> web.Response:
        """``GET /properties/{id}/smartlocks`` → bare array with live status."""
        prop = self.state.get_property(request.match_info["id"])
        return _json(self.state.locks_for(prop["id"]))

    async def create_smartlock(self, request: web.Request) -> web.Response:
        """``POST /properties/{id}/smartlocks`` → 201 SmartLock (Nuki or UniFi)."""
        prop = self.state.get_property(request.match_info["id"])
        body = Body(await read_json(request), _SMARTLOCK_BODY)
        name = body.text("name", required=True)
        nuki_id, integration = body.text("nuki_smartlock_id"), body.text("nuki_integration_id")
        floor, door = body.text("unifi_floor_id"), body.text("unifi_door_id")
        nuki, unifi = bool(nuki_id or integration), bool(floor or door)
        if nuki == unifi:
            body.add(
                "smartlock",
                "give either nuki_smartlock_id and nuki_integration_id, or unifi_floor_id and unifi_door_id",
            )
        elif nuki:
            for key, value in (("nuki_smartlock_id", nuki_id), ("nuki_integration_id", integration)):
                if not value:
                    body.add(key, "is required for a Nuki smart lock")
        else:
            for key, value in (("unifi_floor_id", floor), ("unifi_door_id", door)):
                if not value:
                    body.add(key, "is required for a UniFi door")
        body.check()
        assert name is not None
        for lock in self.state.smart_locks.values():
            attached = (lock["nuki_smartlock"] or {}).get("nuki_smartlock_id") == nuki_id and nuki
            attached = attached or ((lock["unifi_smartlock"] or {}).get("door_id") == door and unifi)
            if attached:
                raise ConflictError(f"That lock is already attached to property {lock['property_id']}")
        if nuki:
            record = self.state.add_nuki_lock(prop["id"], name, nuki_smartlock_id=nuki_id, battery_level=100)
        else:
            record = self.state.add_unifi_lock(prop["id"], name, floor_id=floor, door_id=door)
        return _json(record, 201)

    async def delete_smartlock(self, request: web.Request) -> web.Response:
        """``DELETE /properties/{id}/smartlocks/{lock_id}`` → 204."""
        prop = self.state.get_property(request.match_info["id"])
        lock = self.state.get_lock(request.match_info["lock_id"])
        if lock["property_id"] != prop["id"]:
            raise NotFoundError(f"Smart lock {lock['id']} not found on property {prop['id']}")
        self.state.remove_lock(lock["id"])
        return _no_content()

    # -- bookings --------------------------------------------------------------------------------------------

    @staticmethod
    def _window(request: web.Request) -> tuple[datetime | None, datetime | None]:
        start, end = query_datetime(request, "from"), query_datetime(request, "to")
        if start is not None and end is not None and end < start:
            raise ValidationFailedError({"to": ["must not be before from"]})
        return start, end

    def _wire_booking(self, booking: Json) -> Json:
        """A booking as it goes out: check-in and check-out as instants, or as :attr:`booking_times` says.

        ``date`` sends plain dates (``2026-03-15``), ``naive`` date-times without an offset: the API reference
        shows only a plain date, so the integration must cope with both.
        """
        form = self.state.booking_times
        if form == "instant":
            return booking
        wire = dict(booking)
        for key in ("check_in", "check_out"):
            wire[key] = wire[key][:10] if form == "date" else wire[key].removesuffix("Z")
        return wire

    def _booking_page(self, request: web.Request, property_id: str | None) -> web.Response:
        page, size = page_params(request)
        start, end = self._window(request)
        # The encoded page is kept until a booking changes (a scale run reads a hundred pages a refresh).
        key = (start, end, property_id, page, size, self.state.booking_times)
        generation = self.state.booking_generation
        kept = self._booking_pages.get(key)
        if kept is None or kept[0] != generation:
            found = self.state.bookings_overlapping(start, end, property_id=property_id)
            frame = paged("bookings", [], page, size)
            frame["total"] = len(found)
            items = b",".join(self._encoded_booking(b) for b in found[page * size : (page + 1) * size])
            head, tail = json.dumps(frame).encode().split(b'"bookings": []')
            body = head + b'"bookings": [' + items + b"]" + tail
            if len(self._booking_pages) >= _KEPT_PAGES:
                self._booking_pages.clear()
            kept = self._booking_pages[key] = (generation, body)
        return web.Response(body=kept[1], content_type="application/json")

    def _encoded_booking(self, booking: Json) -> bytes:
        """A booking as it goes out, encoded; kept per record until it changes (its ``version``)."""
        version = getattr(booking, "version", None)
        kept = self._encoded.get(booking["id"])
        form = self.state.booking_times
        if version is not None and kept is not None and kept[0] is booking and kept[1:3] == (version, form):
            return kept[3]
        encoded = json.dumps(self._wire_booking(booking)).encode()
        if version is not None:
            self._encoded[booking["id"]] = (booking, version, form, encoded)
        return encoded

    async def list_bookings(self, request: web.Request) -> web.Response:
        """``GET /bookings?from&to&page&size`` — all properties, sorted by check-in."""
        return self._booking_page(request, None)

    async def list_property_bookings(self, request: web.Request) -> web.Response:
        """``GET /properties/{id}/bookings?from&to&page&size``."""
        prop = self.state.get_property(request.match_info["id"])
        return self._booking_page(request, prop["id"])

    async def current_booking(self, request: web.Request) -> web.Response:
        """``GET /properties/{id}/bookings/current`` — 404 when the house is empty."""
        prop = self.state.get_property(request.match_info["id"])
        booking = self.state.current_booking(prop["id"])
        if booking is None:
            raise NotFoundError(f"No booking in property {prop['id']} now")
        return _json(self._wire_booking(booking))

    async def create_booking(self, request: web.Request) -> web.Response:
        """``POST /properties/{id}/bookings`` → 201; 409 on overlap; 422 on validation."""
        prop = self.state.get_property(request.match_info["id"])
        body = Body(await read_json(request), _NEW_BOOKING_BODY)
        guest_name = body.text("guest_name", required=True)
        check_in = body.instant("check_in", required=True)
        check_out = body.instant("check_out", required=True)
        fields = {
            "guests_count": body.integer("guests_count", minimum=1, maximum=50),
            "guest_email": body.text("guest_email"),
            "guest_phone": body.text("guest_phone"),
            "channel": body.text("channel", required=body.has("channel")),
            "notes": body.text("notes", max_length=5000),
        }
        if check_in is not None and check_out is not None and check_out <= check_in:
            body.add("check_out", "must be after check_in")
        body.check()
        assert guest_name is not None
        assert check_in is not None
        assert check_out is not None
        clash = self.state.find_overlap(prop["id"], check_in, check_out)
        if clash is not None:
            raise ConflictError(f"The stay overlaps booking {clash['id']}")
        booking = self.state.add_booking(
            prop["id"],
            guest_name,
            check_in,
            check_out,
            **{key: value for key, value in fields.items() if value is not None},
        )
        return _json(self._wire_booking(booking), 201)

    async def get_booking(self, request: web.Request) -> web.Response:
        """``GET /bookings/{id}``."""
        return _json(self._wire_booking(self.state.get_booking(request.match_info["id"])))

    async def patch_booking(self, request: web.Request) -> web.Response:
        """``PATCH /bookings/{id}`` — partial update; 409 when new dates overlap; 422 on validation."""
        booking = self.state.get_booking(request.match_info["id"])
        body = Body(await read_json(request), _BOOKING_PATCH)
        changes: Json = {}
        for key in body.data:
            if key not in _BOOKING_PATCH:
                continue
            if body.data[key] is None:
                if key in _NULLABLE_BOOKING:
                    changes[key] = None
                else:
                    body.add(key, "must not be null")
            elif key in ("check_in", "check_out"):
                changes[key] = body.instant(key)
            elif key == "status":
                changes[key] = body.choice(key, BOOKING_STATUSES)
            elif key == "guests_count":
                changes[key] = body.integer(key, minimum=1, maximum=50)
            else:
                changes[key] = body.text(key, required=key in ("guest_name", "channel"), max_length=5000)
        check_in = changes.get("check_in") or parse_iso(booking["check_in"])
        check_out = changes.get("check_out") or parse_iso(booking["check_out"])
        if check_out <= check_in:
            body.add("check_out", "must be after check_in")
        body.check()
        status = changes.get("status", booking["status"])
        if status != "cancelled":
            clash = self.state.find_overlap(
                booking["property_id"], check_in, check_out, exclude_id=booking["id"]
            )
            if clash is not None:
                raise ConflictError(f"The stay overlaps booking {clash['id']}")
        return _json(self._wire_booking(self.state.update_booking(booking["id"], **changes)))

    # -- check-in and access codes ---------------------------------------------------------------------------

    async def get_checkin(self, request: web.Request) -> web.Response:
        """``GET /bookings/{id}/checkin``."""
        return _json(self.state.get_checkin(request.match_info["id"]))

    async def register_guest(self, request: web.Request) -> web.Response:
        """``POST /bookings/{id}/checkin/guests`` → 201 guest (extra fields are stored as given)."""
        booking = self.state.get_booking(request.match_info["id"])
        body = Body(await read_json(request))
        first_name = body.text("first_name", required=True)
        last_name = body.text("last_name")
        nationality = body.text("nationality")
        body.check()
        assert first_name is not None
        if booking["status"] == "cancelled":
            raise ConflictError(f"Booking {booking['id']} is cancelled")
        extra = {
            k: v for k, v in body.data.items() if k not in ("first_name", "last_name", "nationality", "id")
        }
        guest = self.state.register_guest(booking["id"], first_name, last_name, nationality, **extra)
        return _json(guest, 201)

    async def create_access_codes(self, request: web.Request) -> web.Response:
        """``POST /bookings/{id}/access-codes`` → 201 ``{"access_codes": [...]}``, one per lock.

        Without ``smartlock_ids`` every lock of the booking's property gets a code.
        """
        booking = self.state.get_booking(request.match_info["id"])
        body = Body(await read_json(request), ("smartlock_ids", "starts_at", "ends_at", "code"))
        lock_ids = body.text_list("smartlock_ids")
        starts_at, ends_at = body.instant("starts_at"), body.instant("ends_at")
        code = body.text("code")
        own = [lock["id"] for lock in self.state.locks_for(booking["property_id"])]
        if lock_ids is None and not body.has("smartlock_ids"):
            lock_ids = own
            if not own:
                body.add("smartlock_ids", "the property has no smart locks")
        elif lock_ids is not None:
            if not lock_ids:
                body.add("smartlock_ids", "must not be empty")
            for lock_id in lock_ids:
                if lock_id not in own:
                    body.add("smartlock_ids", f"{lock_id} is not a smart lock of this property")
        if code is not None and not _CODE.match(code):
            body.add("code", "must be 4 to 8 digits")
        start = starts_at or parse_iso(booking["check_in"])
        end = ends_at or parse_iso(booking["check_out"])
        if end <= start:
            body.add("ends_at", "must be after starts_at")
        body.check()
        if booking["status"] == "cancelled":
            raise ConflictError(f"Booking {booking['id']} is cancelled")
        codes = [
            self.state.create_access_code(booking["id"], lock_id, code=code, starts_at=start, ends_at=end)
            for lock_id in lock_ids or ()
        ]
        return _json({"access_codes": codes}, 201)

    async def revoke_access_code(self, request: web.Request) -> web.Response:
        """``DELETE /bookings/{id}/access-codes/{code_id}`` → 204."""
        booking = self.state.get_booking(request.match_info["id"])
        code_id = request.match_info["code_id"]
        record = self.state.access_codes.get(code_id)
        if record is None or record["booking_id"] != booking["id"]:
            raise NotFoundError(f"Access code {code_id} not found on booking {booking['id']}")
        self.state.revoke_access_code(code_id)
        return _no_content()

    # -- calendar --------------------------------------------------------------------------------------------

    async def property_calendar(self, request: web.Request) -> web.Response:
        """``GET /properties/{id}/calendar?from&to`` → ``{"events": [...]}``."""
        prop = self.state.get_property(request.match_info["id"])
        start, end = self._window(request)
        return _json({"events": calendar_events(self.state, start, end, property_id=prop["id"])})

    async def upcoming_calendar(self, request: web.Request) -> web.Response:
        """``GET /calendar/upcoming?days`` — events overlapping the next ``days`` (default 7) days."""
        days = query_int(request, "days", 7, minimum=1, maximum=365)
        now = self.state.now()
        return _json({"events": calendar_events(self.state, now, now + timedelta(days=days))})

    # -- timeline --------------------------------------------------------------------------------------------

    async def upcoming_timeline(self, request: web.Request) -> web.Response:
        """``GET /timeline/upcoming?days`` → ``{"days": [{"date", "items"}]}``."""
        days = query_int(request, "days", 7, minimum=1, maximum=90)
        return _json({"days": upcoming_timeline(self.state, days)})

    async def activity(self, request: web.Request) -> web.Response:
        """``GET /timeline/activity?page&size`` → ``{"items", "page", "size", "total"}``, newest first."""
        page, size = page_params(request)
        return _json(paged("items", activity(self.state), page, size))
