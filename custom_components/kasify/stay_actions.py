"""Stay actions: check a guest out early, and read a booking's access log.

``kasify.check_out_now`` shortens every code of the current booking through the access-code engine, lock by
lock; when a lock fails, the locks already shortened get their window back and nothing else changes (no
state, no event). ``kasify.get_booking_access`` (response only) answers a booking's access log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .access_codes.manager import async_get_code_manager
from .access_codes.records import CodeRecord
from .action_errors import failed, invalid
from .api.models import Booking
from .const import DOMAIN, LOGGER
from .services import ATTR_BOOKING_ID, ATTR_PROPERTY, _resolve_property
from .stay_state import StayState, StayTracker, get_tracker, trackers

SERVICE_CHECK_OUT_NOW: Final = "check_out_now"
SERVICE_GET_BOOKING_ACCESS: Final = "get_booking_access"
ATTR_CODES_VALID_FOR: Final = "codes_valid_for"
DEFAULT_CODES_VALID_FOR: Final = 15
MAX_CODES_VALID_FOR: Final = 240

CHECK_OUT_NOW_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_PROPERTY): cv.string,
        vol.Optional(ATTR_CODES_VALID_FOR, default=DEFAULT_CODES_VALID_FOR): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_CODES_VALID_FOR)
        ),
    }
)
GET_BOOKING_ACCESS_SCHEMA: Final = vol.Schema({vol.Required(ATTR_BOOKING_ID): cv.string})


async def _async_check_out_now(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    target = _resolve_property(hass, call.data[ATTR_PROPERTY])
    tracker = get_tracker(hass, target.coordinator.config_entry.entry_id)
    if tracker is None:  # pragma: no cover - a loaded Kasify entry always has one
        raise invalid("account_not_loaded", property=target.prop.name)
    now = dt_util.utcnow()
    state, booking = tracker.state(target.prop.id, now)
    if state is not StayState.OCCUPIED or booking is None:
        raise invalid("no_stay_in_progress", property=target.prop.name)
    codes_end = now + timedelta(minutes=call.data[ATTR_CODES_VALID_FOR])
    shortened = await _async_shorten_codes(hass, booking, codes_end)
    await tracker.async_checked_out(booking, now, codes_end)
    return {
        "booking_id": booking.id,
        "guest_name": booking.guest_name,
        "checked_out_at": now.isoformat(),
        "codes_end": codes_end.isoformat(),
        "locks": list[Any](sorted(shortened)),
    }


async def _async_shorten_codes(hass: HomeAssistant, booking: Booking, codes_end: datetime) -> list[str]:
    """End the booking's codes at ``codes_end`` on every lock, or on none (the ones done are moved back)."""
    manager = async_get_code_manager(hass)
    await manager.async_load()
    done: list[tuple[CodeRecord, str]] = []
    for record in manager.records(booking_id=booking.id):
        if record.ends_at <= codes_end:
            continue
        try:
            issued = await manager.async_update_window(
                {record.entity_id: record.code_id},
                starts_at=min(record.starts_at, codes_end - timedelta(minutes=1)),
                ends_at=codes_end,
            )
        except HomeAssistantError as err:
            await _async_roll_back(hass, done)
            raise failed("check_out_codes_failed", guest=booking.guest_name, error=str(err)) from err
        done.append((record, issued[record.entity_id].code_id))
    return [record.entity_id for record, _ in done]


async def _async_roll_back(hass: HomeAssistant, done: list[tuple[CodeRecord, str]]) -> None:
    """Give the codes already shortened their window back (a lock that refuses is logged, never its PIN)."""
    manager = async_get_code_manager(hass)
    for record, code_id in reversed(done):
        try:
            await manager.async_update_window(
                {record.entity_id: code_id}, starts_at=record.starts_at, ends_at=record.ends_at
            )
        except HomeAssistantError as err:
            LOGGER.warning("Could not give the code on %s its window back: %s", record.entity_id, err)


async def _async_get_booking_access(call: ServiceCall) -> ServiceResponse:
    booking_id: str = call.data[ATTR_BOOKING_ID]
    tracker: StayTracker | None = next((t for t in trackers(call.hass) if t.knows(booking_id)), None)
    if tracker is None:
        raise invalid("unknown_booking", booking_id=booking_id)
    response: dict[str, Any] = tracker.access_log(booking_id)
    return response


def async_setup_stay_services(hass: HomeAssistant) -> None:
    """Register the stay actions (once, from ``async_setup``)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_CHECK_OUT_NOW,
        _async_check_out_now,
        schema=CHECK_OUT_NOW_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_BOOKING_ACCESS,
        _async_get_booking_access,
        schema=GET_BOOKING_ACCESS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
