"""The routes of access persons (users and guests) and their accesses to locks and locations."""

from __future__ import annotations

import re
from typing import Final

from aiohttp import web

from simulator.kasify_state import Json

from .api_common import Routes, collection, json_response, local_attribute, read_body, values
from .errors import GeneralError, ResourceError
from .records import ACCESSIBLE_TYPES, LOCK_TYPES
from .state import RemoteLockState

_PIN: Final = re.compile(r"^\d{4,10}$")
_TIME_OF_DAY: Final = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")


class AccessRoutes:
    """``/access_persons`` and ``/access_persons/{id}/accesses`` over one :class:`RemoteLockState`."""

    def __init__(self, state: RemoteLockState) -> None:
        """Serve ``state``."""
        self.state = state

    def routes(self) -> Routes:
        """Method, path and handler of each route."""
        return [
            ("GET", "/access_persons", self.list_persons),
            ("POST", "/access_persons", self.create_person),
            ("GET", "/access_persons/{id}", self.get_person),
            ("PUT", "/access_persons/{id}", self.update_person),
            ("DELETE", "/access_persons/{id}", self.delete_person),
            ("PUT", "/access_persons/{id}/deactivate", self.deactivate),
            ("GET", "/access_persons/{id}/accesses", self.list_accesses),
            ("POST", "/access_persons/{id}/accesses", self.create_access),
            ("GET", "/access_persons/{id}/accesses/{access_id}", self.get_access),
            ("DELETE", "/access_persons/{id}/accesses/{access_id}", self.delete_access),
        ]

    async def list_persons(self, request: web.Request) -> web.Response:
        """``GET /access_persons?type=&attributes[status][]=`` (default: current and upcoming)."""
        types = set(values(request, "type"))
        statuses = set(values(request, "attributes[status]")) or {"current", "upcoming"}
        items = [
            served
            for person in self.state.access_persons.values()
            if (not types or person["type"] in types)
            and (served := self.state.render_person(person))["attributes"]["status"] in statuses
        ]
        return collection(request, items)

    async def get_person(self, request: web.Request) -> web.Response:
        """``GET /access_persons/{id}``."""
        return json_response(
            {"data": self.state.render_person(self.state.get_person(request.match_info["id"]))}
        )

    async def create_person(self, request: web.Request) -> web.Response:
        """``POST /access_persons`` → 201 (access_user or access_guest)."""
        data, attributes = await read_body(request)
        if self.state.subscription_required:
            raise GeneralError(402, "billing_subscription_required", "Please create a subscription")
        errors: list[tuple[str | None, str]] = []
        kind = data.get("type")
        if kind not in ("access_user", "access_guest"):
            errors.append(("type", "must be access_user or access_guest"))
        name = attributes.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(("name", "is empty"))
        starts_at = ends_at = None
        if kind == "access_guest":
            starts_at = local_attribute(attributes, "starts_at", errors)
            ends_at = local_attribute(attributes, "ends_at", errors)
            for key, value in (("starts_at", starts_at), ("ends_at", ends_at)):
                if value is None and not any(attr == key for attr, _ in errors):
                    errors.append((key, "can't be blank"))
            if starts_at and ends_at and ends_at <= starts_at:
                errors.append(("ends_at", "must be after starts_at"))
        pin = self._pin(attributes, errors)
        email = attributes.get("email")
        if email is not None and not isinstance(email, str):
            errors.append(("email", "is invalid"))
        if errors:
            raise ResourceError(attributes, errors)
        assert isinstance(name, str)
        assert isinstance(kind, str)
        person = self.state.add_access_person(
            kind, name, pin=pin, starts_at=starts_at, ends_at=ends_at, email=email
        )
        return json_response({"data": self.state.render_person(person)}, 201)

    def _pin(
        self, attributes: Json, errors: list[tuple[str | None, str]], exclude_id: str | None = None
    ) -> str | None:
        pin = attributes.get("pin")
        if attributes.get("generate_pin") is True:
            return self.state.generate_pin()
        if pin is None and exclude_id is None and not attributes.get("card_number"):
            errors.append((None, "pin, generate_pin or card_number is required"))
            return None
        if pin is None:
            return None
        if not isinstance(pin, str) or not _PIN.match(pin):
            errors.append(("pin", "must be 4 to 10 digits"))
            return None
        if pin in self.state.active_pins(exclude_id):
            errors.append(("pin", "has already been taken"))
            return None
        return pin

    async def update_person(self, request: web.Request) -> web.Response:
        """``PUT /access_persons/{id}`` — name, email, pin and (guests) times."""
        person = self.state.get_person(request.match_info["id"])
        _, attributes = await read_body(request)
        errors: list[tuple[str | None, str]] = []
        if self.state.person_status(person) in ("deactivated", "expired"):
            raise ResourceError(attributes, [(None, "Access person can no longer be updated")])
        changes: Json = {}
        if "name" in attributes:
            name = attributes["name"]
            if not isinstance(name, str) or not name.strip():
                errors.append(("name", "is empty"))
            changes["name"] = name
        if "email" in attributes:
            changes["email"] = attributes["email"]
        if "pin" in attributes or attributes.get("generate_pin") is True:
            changes["pin"] = self._pin(attributes, errors, exclude_id=person["id"])
        if person["type"] == "access_guest":
            for key in ("starts_at", "ends_at"):
                if key in attributes:
                    changes[key] = local_attribute(attributes, key, errors)
            start = changes.get("starts_at") or person["attributes"]["starts_at"]
            end = changes.get("ends_at") or person["attributes"]["ends_at"]
            if end <= start:
                errors.append(("ends_at", "must be after starts_at"))
        if errors:
            raise ResourceError(attributes, errors)
        person["attributes"].update(changes, updated_at=self.state.stamp())
        return json_response({"data": self.state.render_person(person)})

    async def deactivate(self, request: web.Request) -> web.Response:
        """``PUT /access_persons/{id}/deactivate`` → 200 with the person, status ``deactivated``."""
        person = self.state.deactivate(request.match_info["id"])
        return json_response({"data": self.state.render_person(person)})

    async def delete_person(self, request: web.Request) -> web.Response:
        """``DELETE /access_persons/{id}`` → 204."""
        self.state.delete_person(request.match_info["id"])
        return web.Response(status=204)

    # -- accesses --------------------------------------------------------------------------------------------

    async def list_accesses(self, request: web.Request) -> web.Response:
        """``GET /access_persons/{id}/accesses``."""
        person = self.state.get_person(request.match_info["id"])
        items = [
            a for a in self.state.accesses.values() if a["attributes"]["access_person_id"] == person["id"]
        ]
        return collection(request, items)

    async def create_access(self, request: web.Request) -> web.Response:
        """``POST /access_persons/{id}/accesses`` → 201; 409 when the same access exists already."""
        person = self.state.get_person(request.match_info["id"])
        _, attributes = await read_body(request)
        errors: list[tuple[str | None, str]] = []
        accessible_type = attributes.get("accessible_type")
        accessible_id = attributes.get("accessible_id")
        if accessible_type not in ACCESSIBLE_TYPES:
            errors.append(("accessible_type", f"must be one of: {', '.join(ACCESSIBLE_TYPES)}"))
        elif not isinstance(accessible_id, str) or not (
            accessible_id in self.state.locations
            if accessible_type == "location"
            else (self.state.devices.get(accessible_id) or {}).get("type") in LOCK_TYPES
        ):
            errors.append(("accessible_id", "does not exist"))
        times: Json = {}
        for key in ("guest_start_time", "guest_end_time"):
            value = attributes.get(key)
            if value is not None and not (isinstance(value, str) and _TIME_OF_DAY.match(value)):
                errors.append((key, "is invalid"))
            elif value is not None:
                times[key] = value if value.count(":") == 2 else f"{value}:00"
        zone = self.state.zone_of_accessible(accessible_type, accessible_id) if not errors else None
        if self.state.person_status(person, first_zone=zone) in ("deactivated", "expired"):
            errors.append((None, "Access person is no longer active"))
        if errors:
            raise ResourceError(attributes, errors)
        assert isinstance(accessible_id, str)
        assert isinstance(accessible_type, str)
        for access in self.state.accesses.values():
            if (
                access["attributes"]["access_person_id"] == person["id"]
                and access["attributes"]["accessible_id"] == accessible_id
            ):
                raise GeneralError(409, "duplicate", "This access person already has access to it")
        record = self.state.grant(person["id"], accessible_id, accessible_type, **times)
        return json_response({"data": record}, 201)

    async def get_access(self, request: web.Request) -> web.Response:
        """``GET /access_persons/{id}/accesses/{access_id}``."""
        access = self.state.get_access(request.match_info["access_id"], request.match_info["id"])
        return json_response({"data": access})

    async def delete_access(self, request: web.Request) -> web.Response:
        """``DELETE /access_persons/{id}/accesses/{access_id}`` → 204."""
        access = self.state.get_access(request.match_info["access_id"], request.match_info["id"])
        self.state.revoke_access(access["id"])
        return web.Response(status=204)
