"""Home Assistant APIs whose form changed between the oldest supported release and the newest.

The integration runs on every release from the ``hacs.json`` minimum (2025.4) to the newest. Where an API
it needs changed in between, the change is handled here, and only here, by looking for the newer API (never
by comparing version numbers); everything else reads as if there were one Home Assistant. Each function says
which release brought the newer form. ``scripts/check_newest_ha.py`` fails the build when another module
calls one of the old forms.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any, Final

import attr
from homeassistant.components.todo import TodoItem
from homeassistant.components.todo.const import TodoItemStatus
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

try:  # 2025.10 and newer: target selection lives in helpers/target.py (the old form is gone in 2026.8).
    from homeassistant.helpers.target import (  # type: ignore[import-not-found,unused-ignore]
        TargetSelection,
        async_extract_referenced_entity_ids as _extract_from_selection,
    )
except ImportError:  # 2025.4 - 2025.9
    TargetSelection = None  # type: ignore[assignment,misc,unused-ignore]
    _extract_from_selection = None  # type: ignore[assignment,unused-ignore]
    from homeassistant.helpers.service import (  # type: ignore[attr-defined,unused-ignore]
        async_extract_referenced_entity_ids as _extract_from_call,
    )

# 2026.8: a device belongs to exactly one config entry (``config_entry_id``); identifiers are unique per
# entry (``async_get_device_by_identifier``); a device names its parent by id (``via_device_id``).
ONE_ENTRY_PER_DEVICE: Final = "config_entry_id" in attr.fields_dict(dr.DeviceEntry)
_VIA_DEVICE_ID_IN_INFO: Final = "via_device_id" in getattr(DeviceInfo, "__optional_keys__", frozenset())
# Releases after 2025.4: a to-do item says when it was completed.
TODO_ITEM_HAS_COMPLETED: Final = "completed" in {field.name for field in dataclasses.fields(TodoItem)}


def referenced_entity_ids(hass: HomeAssistant, call: ServiceCall) -> tuple[set[str], set[str]]:
    """The entities an action call targets: (named explicitly, reached through a device/area/floor/label)."""
    if TargetSelection is not None and _extract_from_selection is not None:
        selected: Any = _extract_from_selection(hass, TargetSelection(call.data))
    else:
        selected = _extract_from_call(hass, call)
    return set(selected.referenced), set(selected.indirectly_referenced)


def device_by_identifier(
    hass: HomeAssistant, identifier: tuple[str, str], config_entry_id: str
) -> dr.DeviceEntry | None:
    """The device of one config entry that has ``identifier``.

    Since 2026.8 two entries may each have a device with the same identifier, so the entry is part of the key.
    """
    registry = dr.async_get(hass)
    if ONE_ENTRY_PER_DEVICE:
        device: dr.DeviceEntry | None = registry.async_get_device_by_identifier(  # type: ignore[attr-defined,unused-ignore]
            identifier, config_entry_id
        )
        return device
    device = registry.async_get_device(identifiers={identifier})
    return device if device is not None and config_entry_id in device.config_entries else None


def device_config_entry_ids(device: dr.DeviceEntry) -> set[str]:
    """The config entries a device belongs to (exactly one since 2026.8; one or more before)."""
    if ONE_ENTRY_PER_DEVICE:
        return {device.config_entry_id}  # type: ignore[attr-defined,unused-ignore]
    return set(device.config_entries)


def remove_device(hass: HomeAssistant, device: dr.DeviceEntry, config_entry_id: str) -> None:
    """Take a device away from a config entry.

    Before 2026.8 a device could be shared by entries, so only this entry leaves it (the device goes with its
    last entry); since then the device is the entry's alone and is removed.
    """
    registry = dr.async_get(hass)
    if ONE_ENTRY_PER_DEVICE:
        registry.async_remove_device(device.id)
    else:
        registry.async_update_device(device.id, remove_config_entry_id=config_entry_id)


def set_via_device(
    info: DeviceInfo, parent: dr.DeviceEntry | None, parent_identifier: tuple[str, str]
) -> None:
    """Hang the device described by ``info`` under ``parent`` (whose identifier is ``parent_identifier``).

    Since 2026.8 the parent is named by its device id, before by its identifier. Either way it must already be
    registered; when it is not yet, nothing is set and the link is made when links are next synchronised.
    """
    if parent is None:
        return
    if _VIA_DEVICE_ID_IN_INFO:
        info["via_device_id"] = parent.id  # type: ignore[typeddict-unknown-key,unused-ignore]
    else:
        info["via_device"] = parent_identifier


def todo_item(
    *,
    uid: str,
    summary: str,
    status: TodoItemStatus,
    due: date | datetime | None,
    description: str | None,
    completed: datetime | None,
) -> TodoItem:
    """A to-do item; when it was completed is kept where the release has the field (after 2025.4)."""
    fields: dict[str, Any] = {"completed": completed} if TODO_ITEM_HAS_COMPLETED else {}
    return TodoItem(uid=uid, summary=summary, status=status, due=due, description=description, **fields)
