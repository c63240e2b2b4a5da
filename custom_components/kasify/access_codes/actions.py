"""The access-code actions: ``kasify.create_access_code``, ``revoke_access_code``, ``list_access_codes``.

Creating and revoking codes, and listing them with their PINs, need an administrator: a call a Home Assistant
user makes who is not one is refused with ``Unauthorized``. A call without a user (an automation, a script,
set up by an administrator) is allowed, as in Home Assistant's own admin services.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv, device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .. import compat
from ..const import DOMAIN
from ..instants import datetime_in_range
from ..links import actions_zone
from .adapter import validation_error as _validation_error
from .manager import async_get_code_manager, is_code_lock

SERVICE_CREATE_ACCESS_CODE: Final = "create_access_code"
SERVICE_REVOKE_ACCESS_CODE: Final = "revoke_access_code"
SERVICE_LIST_ACCESS_CODES: Final = "list_access_codes"

ATTR_NAME: Final = "name"
ATTR_CODE: Final = "code"
ATTR_CODE_ID: Final = "code_id"
ATTR_STARTS_AT: Final = "starts_at"
ATTR_ENDS_AT: Final = "ends_at"
ATTR_BOOKING_ID: Final = "booking_id"
ATTR_PROPERTY: Final = "property"
ATTR_INCLUDE_CODES: Final = "include_codes"

_CODE_SCHEMA = vol.All(cv.string, vol.Strip, vol.Length(min=1))


def _entity_schema(fields: dict[Any, Any]) -> vol.Schema:
    """Target fields (entity, device, area, ...) plus ``fields``; the action checks a target is given."""
    return vol.Schema({**cv.ENTITY_SERVICE_FIELDS, **fields})


CREATE_SCHEMA: Final = _entity_schema(
    {
        vol.Required(ATTR_NAME): vol.All(cv.string, vol.Strip),
        vol.Optional(ATTR_CODE): _CODE_SCHEMA,
        vol.Required(ATTR_STARTS_AT): datetime_in_range,
        vol.Required(ATTR_ENDS_AT): datetime_in_range,
        vol.Optional(ATTR_BOOKING_ID): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
    }
)
REVOKE_SCHEMA: Final = _entity_schema(
    {vol.Required(ATTR_CODE_ID): vol.All(cv.string, vol.Strip, vol.Length(min=1))}
)
LIST_SCHEMA: Final = _entity_schema(
    {
        vol.Optional(ATTR_PROPERTY): cv.string,
        vol.Optional(ATTR_BOOKING_ID): cv.string,
        vol.Optional(ATTR_INCLUDE_CODES, default=False): cv.boolean,
    }
)


def _target_entities(hass: HomeAssistant, call: ServiceCall) -> list[str]:
    """The lock entities the call targets: explicit ones as given, and ours among devices/areas."""
    referenced, indirectly_referenced = compat.referenced_entity_ids(hass, call)
    ent_reg = er.async_get(hass)
    indirect = [
        entity_id
        for entity_id in sorted(indirectly_referenced)
        if (entry := ent_reg.async_get(entity_id)) is not None and is_code_lock(entry)
    ]
    return sorted(referenced) + [e for e in indirect if e not in referenced]


async def _async_require_admin(call: ServiceCall) -> None:
    """Refuse the call of a user who is not an administrator; a call without a user passes.

    The check of ``async_register_admin_service``, which cannot register an action that returns a response.
    """
    if not (user_id := call.context.user_id):
        return
    user = await call.hass.auth.async_get_user(user_id)
    if user is None:
        raise UnknownUser(context=call.context)
    if not user.is_admin:
        raise Unauthorized(context=call.context)


def _iso(value: datetime) -> str:
    return dt_util.as_utc(value).isoformat()


async def _async_create(call: ServiceCall) -> ServiceResponse:
    await _async_require_admin(call)
    manager = async_get_code_manager(call.hass)
    entity_ids = _target_entities(call.hass, call)
    starts_at: datetime = call.data[ATTR_STARTS_AT]
    ends_at: datetime = call.data[ATTR_ENDS_AT]
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        # Naive times are the property's wall clock (the booking's property, else the locks').
        zone = actions_zone(call.hass, entity_ids, call.data.get(ATTR_BOOKING_ID))
        starts_at = starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=zone)
        ends_at = ends_at if ends_at.tzinfo else ends_at.replace(tzinfo=zone)
    issued = await manager.async_create(
        entity_ids,
        name=call.data[ATTR_NAME],
        code=call.data.get(ATTR_CODE),
        starts_at=starts_at,
        ends_at=ends_at,
        booking_id=call.data.get(ATTR_BOOKING_ID),
    )
    return {
        entity_id: {
            "code_id": code.code_id,
            "code": code.code,
            "starts_at": _iso(code.starts_at),
            "ends_at": _iso(code.ends_at),
            "status": code.status,
        }
        for entity_id, code in issued.items()
    }


async def _async_revoke(call: ServiceCall) -> None:
    await _async_require_admin(call)
    manager = async_get_code_manager(call.hass)
    entity_ids = _target_entities(call.hass, call)
    if not entity_ids:
        raise _validation_error("access_code_no_locks")
    await manager.async_revoke(dict.fromkeys(entity_ids, call.data[ATTR_CODE_ID]))


async def _async_list(call: ServiceCall) -> ServiceResponse:
    include = call.data[ATTR_INCLUDE_CODES]
    if include:  # the PINs: administrators only; the rest of the list is for every user
        await _async_require_admin(call)
    hass = call.hass
    manager = async_get_code_manager(hass)
    await manager.async_load()
    entity_ids: set[str] | None = None
    if any(call.data.get(key) for key in (ATTR_ENTITY_ID, "device_id", "area_id", "floor_id", "label_id")):
        entity_ids = set(_target_entities(hass, call))
    if (property_id := call.data.get(ATTR_PROPERTY)) is not None:
        if dr.async_get(hass).async_get(property_id) is None:
            raise _validation_error("access_code_property_unknown", property=property_id)
        # Any lock of the property that has codes: provider locks and Kasify's own, loaded or not.
        ent_reg, dev_reg = er.async_get(hass), dr.async_get(hass)
        of_property = set()
        for record in manager.records():
            entry = ent_reg.async_get(record.entity_id)
            device = dev_reg.async_get(entry.device_id) if entry is not None and entry.device_id else None
            if device is not None and device.via_device_id == property_id:
                of_property.add(record.entity_id)
        entity_ids = of_property if entity_ids is None else entity_ids & of_property
    listed: list[JsonValueType] = []
    for record in manager.records(entity_ids, call.data.get(ATTR_BOOKING_ID)):
        item: dict[str, JsonValueType] = {
            "entity_id": record.entity_id,
            "lock": record.lock,
            "code_id": record.code_id,
            "name": record.name,
            "starts_at": _iso(record.starts_at),
            "ends_at": _iso(record.ends_at),
            "status": record.status,
            "booking_id": record.booking_id,
        }
        if include:
            item["code"] = record.code
        listed.append(item)
    return {"codes": listed}


@callback
def async_setup_access_code_services(hass: HomeAssistant) -> None:
    """Register the three access-code actions (once, from ``async_setup``) and load the stored codes."""
    manager = async_get_code_manager(hass)
    hass.async_create_task(manager.async_load(), "kasify access codes load")
    hass.services.async_register(
        DOMAIN,
        SERVICE_CREATE_ACCESS_CODE,
        _async_create,
        schema=CREATE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(DOMAIN, SERVICE_REVOKE_ACCESS_CODE, _async_revoke, schema=REVOKE_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_ACCESS_CODES,
        _async_list,
        schema=LIST_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
