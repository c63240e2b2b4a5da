"""Kasify actions: create bookings and tasks, start and complete tasks.

Every action is registered once (from ``async_setup``), validates its input before anything is sent, answers
with response data and refreshes the account afterwards so the calendar and sensors show the change at once.
The user's mistakes raise a translated :class:`ServiceValidationError` and change nothing; upstream failures a
translated :class:`HomeAssistantError`. Guest e-mails and phone numbers are passed to Kasify and nowhere else
(no logs, no response data).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
import re
from typing import Any, Final

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import voluptuous as vol

from . import compat
from .action_errors import failed, field_errors, invalid
from .api.errors import ApiError, ConflictError, NotFoundError, ValidationError
from .api.http import redact
from .api.models import Booking, Property, Task, TaskType, TeamMember
from .const import DOMAIN, LOGGER
from .coordinator import KasifyConfigEntry, property_identifier
from .instants import datetime_in_range
from .providers.kasify import KasifyCoordinator
from .task_items import team
from .tasks import MAX_TEXT, NewTask, TaskAction, async_create_task, async_move_task

SERVICE_CREATE_BOOKING: Final = "create_booking"
SERVICE_CREATE_TASK: Final = "create_task"
SERVICE_START_TASK: Final = "start_task"
SERVICE_COMPLETE_TASK: Final = "complete_task"

ATTR_PROPERTY: Final = "property"
ATTR_GUEST_NAME: Final = "guest_name"
ATTR_CHECK_IN: Final = "check_in"
ATTR_CHECK_OUT: Final = "check_out"
ATTR_GUESTS: Final = "guests"
ATTR_EMAIL: Final = "email"
ATTR_PHONE: Final = "phone"
ATTR_CHANNEL: Final = "channel"
ATTR_NOTES: Final = "notes"
ATTR_TITLE: Final = "title"
ATTR_DESCRIPTION: Final = "description"
ATTR_TASK_TYPE: Final = "task_type"
ATTR_DUE: Final = "due"
ATTR_ASSIGNEE: Final = "assignee"
ATTR_BOOKING_ID: Final = "booking_id"
ATTR_TASK_ID: Final = "task_id"

MAX_GUESTS: Final = 50
MAX_ID_LENGTH: Final = 128
"""Kasify ids are UUIDs; a longer one is refused before it is sent."""
TASK_TYPES: Final = [task_type.value for task_type in TaskType]

# Kasify's field names in 422 answers → the action's field names the user typed.
_FIELD_NAMES: Final = {
    "guest_name": ATTR_GUEST_NAME,
    "guest_email": ATTR_EMAIL,
    "guest_phone": ATTR_PHONE,
    "guests_count": ATTR_GUESTS,
    "due_at": ATTR_DUE,
    "assignee_id": ATTR_ASSIGNEE,
    "property_id": ATTR_PROPERTY,
}
_PHONE: Final = re.compile(r"^\+?[0-9 ()./-]+$")
_MIN_PHONE_DIGITS: Final = 6


# --- input validation -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """Text that is not blank, without surrounding spaces."""
    text = cv.string(value).strip()
    if not text:
        raise vol.Invalid("must not be empty")
    return text


def _optional_text(value: Any) -> str | None:
    """Text; blank means "not given" (what an unset blueprint input or template renders to)."""
    if value is None:
        return None
    return cv.string(value).strip() or None


def _optional_long_text(value: Any) -> str | None:
    text = _optional_text(value)
    if text is not None and len(text) > MAX_TEXT:
        raise vol.Invalid(f"must be at most {MAX_TEXT} characters")
    return text


def _optional_email(value: Any) -> str | None:
    text = _optional_text(value)
    if text is None:
        return None
    try:
        vol.Email()(text)
    except vol.Invalid:
        # The address itself is never echoed back (it would end up in error reports).
        raise vol.Invalid("expected an e-mail address") from None
    return text


def _optional_phone(value: Any) -> str | None:
    text = _optional_text(value)
    if text is None:
        return None
    if not _PHONE.match(text) or sum(ch.isdigit() for ch in text) < _MIN_PHONE_DIGITS:
        raise vol.Invalid("expected a phone number (digits, spaces, +, -, parentheses)")
    return text


def _optional_guests(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    guests: int = vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_GUESTS))(value)
    return guests


def _id(value: Any) -> str:
    """A Kasify id: text that is not blank, of at most :data:`MAX_ID_LENGTH` characters."""
    text = _text(value)
    if len(text) > MAX_ID_LENGTH:
        raise vol.Invalid(f"must be at most {MAX_ID_LENGTH} characters")
    return text


def _optional_id(value: Any) -> str | None:
    text = _optional_text(value)
    return None if text is None else _id(text)


def _instant(value: Any) -> datetime:
    """A date and time; one without a time zone stays naive until the property's zone is known."""
    return datetime_in_range(value)


def _optional_instant(value: Any) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _instant(value)


def _at_property(value: datetime, target: _PropertyTarget) -> datetime:
    """An instant in UTC; a naive one is read in the property's time zone (its settings, else HA's)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=target.coordinator.property_zone(target.prop.id))
    return dt_util.as_utc(value)


CREATE_BOOKING_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_PROPERTY): cv.string,
        vol.Required(ATTR_GUEST_NAME): _text,
        vol.Required(ATTR_CHECK_IN): _instant,
        vol.Required(ATTR_CHECK_OUT): _instant,
        vol.Optional(ATTR_GUESTS): _optional_guests,
        vol.Optional(ATTR_EMAIL): _optional_email,
        vol.Optional(ATTR_PHONE): _optional_phone,
        vol.Optional(ATTR_CHANNEL): _optional_text,
        vol.Optional(ATTR_NOTES): _optional_long_text,
    }
)

CREATE_TASK_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_PROPERTY): cv.string,
        vol.Required(ATTR_TITLE): _text,
        vol.Optional(ATTR_DESCRIPTION): _optional_long_text,
        vol.Optional(ATTR_TASK_TYPE, default=TaskType.OTHER.value): vol.In(TASK_TYPES),
        vol.Optional(ATTR_DUE): _optional_instant,
        vol.Optional(ATTR_ASSIGNEE): _optional_text,
        vol.Optional(ATTR_BOOKING_ID): _optional_id,
    }
)

TASK_SCHEMA: Final = vol.Schema({vol.Required(ATTR_TASK_ID): _id})


# --- errors ----------------------------------------------------------------------------------------


def _when(instant: datetime) -> str:
    """An instant as the user reads it: date and time in Home Assistant's time zone."""
    return dt_util.as_local(instant).strftime("%Y-%m-%d %H:%M")


def _field_errors(err: ValidationError) -> str:
    """Kasify's per-field messages, named by the action's fields ("email: is not valid; ...")."""
    return field_errors(err, _FIELD_NAMES)


# --- targets ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PropertyTarget:
    """The property an action is about, and the Kasify account that has it."""

    coordinator: KasifyCoordinator
    prop: Property


def _kasify_property_id(device: dr.DeviceEntry) -> str | None:
    """The Kasify property id of a property device (casavi properties and locks have none)."""
    domain, prefix = property_identifier("")
    return next(
        (
            ident.removeprefix(prefix)
            for dom, ident in device.identifiers
            if dom == domain and ident.startswith(prefix)
        ),
        None,
    )


def _loaded_coordinators(
    hass: HomeAssistant, entry_ids: Iterable[str] | None = None
) -> list[KasifyCoordinator]:
    """Coordinators of the loaded Kasify accounts (of ``entry_ids`` when given)."""
    entries: list[KasifyConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    wanted = set(entry_ids) if entry_ids is not None else None
    return [
        entry.runtime_data.coordinator
        for entry in entries
        if (wanted is None or entry.entry_id in wanted)
        and isinstance(entry.runtime_data.coordinator, KasifyCoordinator)
        and entry.runtime_data.coordinator.data is not None
    ]


def _resolve_property(hass: HomeAssistant, device_id: str) -> _PropertyTarget:
    """The Kasify property behind a device, through the device registry and the entries that hold it."""
    device = dr.async_get(hass).async_get(device_id)
    property_id = _kasify_property_id(device) if device is not None else None
    if device is None or property_id is None:
        name = (device.name_by_user or device.name or device_id) if device is not None else device_id
        raise invalid("invalid_property", device=name)
    for coordinator in _loaded_coordinators(hass, compat.device_config_entry_ids(device)):
        prop = coordinator.data.properties.get(property_id)
        if prop is not None:
            return _PropertyTarget(coordinator, prop)
    raise invalid("account_not_loaded", property=device.name_by_user or device.name or property_id)


# --- create_booking ---------------------------------------------------------------------------------


def _overlapping(bookings: Iterable[Booking], check_in: datetime, check_out: datetime) -> Booking | None:
    return next(
        (b for b in bookings if b.active and b.check_in < check_out and check_in < b.check_out),
        None,
    )


def _overlap_error(prop: Property, clash: Booking) -> ServiceValidationError:
    return invalid(
        "booking_overlap",
        property=prop.name,
        guest=clash.guest_name,
        check_in=_when(clash.check_in),
        check_out=_when(clash.check_out),
    )


async def _conflict_error(
    target: _PropertyTarget, check_in: datetime, check_out: datetime
) -> ServiceValidationError:
    """Kasify refused an overlap the cached bookings did not show (a stay outside the window, or new)."""
    try:
        listed = await target.coordinator.client.list_property_bookings(target.prop.id, check_in, check_out)
        bookings = [target.coordinator.localize(b) for b in listed]
    except ApiError:
        bookings = []
    clash = _overlapping(bookings, check_in, check_out)
    if clash is None:
        return invalid("booking_conflict", property=target.prop.name)
    return _overlap_error(target.prop, clash)


async def _async_create_booking(call: ServiceCall) -> ServiceResponse:
    target = _resolve_property(call.hass, call.data[ATTR_PROPERTY])
    check_in = _at_property(call.data[ATTR_CHECK_IN], target)
    check_out = _at_property(call.data[ATTR_CHECK_OUT], target)
    if check_out <= check_in:
        raise invalid("check_out_not_after_check_in", check_in=_when(check_in), check_out=_when(check_out))
    clash = _overlapping(target.coordinator.data.active_bookings(target.prop.id), check_in, check_out)
    if clash is not None:
        raise _overlap_error(target.prop, clash)
    secrets = (call.data.get(ATTR_EMAIL), call.data.get(ATTR_PHONE))
    try:
        booking = await target.coordinator.client.create_booking(
            target.prop.id,
            guest_name=call.data[ATTR_GUEST_NAME],
            check_in=check_in,
            check_out=check_out,
            guests_count=call.data.get(ATTR_GUESTS),
            guest_email=call.data.get(ATTR_EMAIL),
            guest_phone=call.data.get(ATTR_PHONE),
            channel=call.data.get(ATTR_CHANNEL),
            notes=call.data.get(ATTR_NOTES),
        )
    except ConflictError as err:
        error = await _conflict_error(target, check_in, check_out)
        raise error from err
    except ValidationError as err:
        errors = redact(_field_errors(err), secrets)
        raise invalid("booking_rejected", property=target.prop.name, errors=errors) from err
    except ApiError as err:
        message = redact(str(err), secrets)
        raise failed("create_booking_failed", property=target.prop.name, error=message) from err
    booking = target.coordinator.localize(booking)
    LOGGER.debug("Created booking %s at %s", booking.id, target.prop.name)
    await target.coordinator.async_refresh()
    return {
        "booking_id": booking.id,
        "property_id": booking.property_id,
        "property": target.prop.name,
        "guest_name": booking.guest_name,
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "guests": booking.guests_count,
        "channel": booking.channel,
        "status": booking.status.value,
    }


# --- create_task -----------------------------------------------------------------------------------


def _find_assignee(prop: Property, wanted: str) -> TeamMember:
    """The team member ``wanted`` names: their Kasify id, full name or first name (any case)."""
    members = team(prop)
    if not members:
        raise invalid("property_has_no_team", assignee=wanted, property=prop.name)
    by_id = [m for m in members if m.id == wanted]
    if by_id:
        return by_id[0]
    folded = wanted.casefold()
    by_name = [m for m in members if folded in (m.full_name.casefold(), m.name.casefold())]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise invalid("ambiguous_assignee", assignee=wanted, property=prop.name)
    raise invalid(
        "unknown_assignee",
        assignee=wanted,
        property=prop.name,
        team=", ".join(sorted(m.full_name for m in members)),
    )


async def _check_booking(target: _PropertyTarget, booking_id: str) -> None:
    """The booking a task refers to exists and is a stay at the task's property."""
    data = target.coordinator.data
    booking = next((b for items in data.bookings.values() for b in items if b.id == booking_id), None)
    if booking is None:
        try:
            booking = target.coordinator.localize(await target.coordinator.client.get_booking(booking_id))
        except (NotFoundError, ValidationError, ValueError) as err:
            # Kasify does not know it, refuses it as an id, or it cannot be one (``..``): not a booking.
            raise invalid("unknown_booking", booking_id=booking_id) from err
        except ApiError as err:
            raise failed("create_task_failed", property=target.prop.name, error=str(err)) from err
    if booking.property_id != target.prop.id:
        other = data.properties.get(booking.property_id)
        raise invalid(
            "booking_other_property",
            booking_id=booking_id,
            property=target.prop.name,
            other_property=other.name if other is not None else booking.property_id,
        )


def _task_response(task: Task, prop: Property, assignee: TeamMember | None) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "property_id": task.property_id,
        "property": prop.name,
        "title": task.title,
        "task_type": task.task_type,
        "status": task.status.value,
        "due": task.due_at.isoformat() if task.due_at is not None else None,
        "assignee_id": task.assignee_id,
        "assignee": assignee.full_name if assignee is not None else None,
        "booking_id": task.booking_id,
    }


async def _async_create_task(call: ServiceCall) -> ServiceResponse:
    target = _resolve_property(call.hass, call.data[ATTR_PROPERTY])
    assignee_name: str | None = call.data.get(ATTR_ASSIGNEE)
    assignee = _find_assignee(target.prop, assignee_name) if assignee_name else None
    booking_id: str | None = call.data.get(ATTR_BOOKING_ID)
    if booking_id:
        await _check_booking(target, booking_id)
    new = NewTask(
        title=call.data[ATTR_TITLE],
        description=call.data.get(ATTR_DESCRIPTION),
        task_type=call.data[ATTR_TASK_TYPE],
        due_at=_at_property(due, target) if (due := call.data.get(ATTR_DUE)) is not None else None,
        assignee_id=assignee.id if assignee is not None else None,
        booking_id=booking_id,
    )
    task = await async_create_task(target.coordinator, target.prop, new)
    return _task_response(task, target.prop, assignee)


# --- start_task / complete_task ---------------------------------------------------------------------


async def _find_task(hass: HomeAssistant, task_id: str, failure_key: str) -> tuple[KasifyCoordinator, Task]:
    """The task and its account: from the tasks already known, else asked of each Kasify account."""
    coordinators = _loaded_coordinators(hass)
    if not coordinators:
        raise invalid("no_kasify_account")
    for coordinator in coordinators:
        if (task := coordinator.data.find_task(task_id)) is not None:
            return coordinator, task
    # Tasks created since the last refresh, and tasks completed long ago, are not kept: ask.
    for coordinator in coordinators:
        try:
            return coordinator, await coordinator.client.get_task(task_id)
        except (NotFoundError, ValidationError, ValueError):
            continue  # Kasify does not know it, refuses it as an id, or it cannot be one (``..``)
        except ApiError as err:
            raise failed(failure_key, task=task_id, error=str(err)) from err
    raise invalid("unknown_task", task_id=task_id)


async def _transition(call: ServiceCall, action: TaskAction) -> ServiceResponse:
    task_id: str = call.data[ATTR_TASK_ID]
    coordinator, task = await _find_task(call.hass, task_id, f"{action}_task_failed")
    updated = await async_move_task(coordinator, task, action)
    prop = coordinator.data.properties.get(updated.property_id)
    return {
        "task_id": updated.id,
        "property_id": updated.property_id,
        "property": prop.name if prop is not None else None,
        "title": updated.title,
        "status": updated.status.value,
    }


async def _async_start_task(call: ServiceCall) -> ServiceResponse:
    return await _transition(call, TaskAction.START)


async def _async_complete_task(call: ServiceCall) -> ServiceResponse:
    return await _transition(call, TaskAction.COMPLETE)


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the Kasify booking and task actions (once, from ``async_setup``)."""
    actions: tuple[
        tuple[str, Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]], vol.Schema], ...
    ] = (
        (SERVICE_CREATE_BOOKING, _async_create_booking, CREATE_BOOKING_SCHEMA),
        (SERVICE_CREATE_TASK, _async_create_task, CREATE_TASK_SCHEMA),
        (SERVICE_START_TASK, _async_start_task, TASK_SCHEMA),
        (SERVICE_COMPLETE_TASK, _async_complete_task, TASK_SCHEMA),
    )
    for name, handler, schema in actions:
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=SupportsResponse.OPTIONAL
        )
    from .stay_actions import async_setup_stay_services  # it builds on this module

    async_setup_stay_services(hass)
