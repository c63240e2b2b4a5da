"""The newest-release checker finds what broke the integration before: run on small made-up trees."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from scripts.check_newest_ha import parse_source, run_checks


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")


HA_TREE = {
    "homeassistant/__init__.py": "",
    "homeassistant/helpers/__init__.py": "",
    "homeassistant/helpers/deprecation.py": "def deprecated_function(*a, **k): ...\n",
    "homeassistant/helpers/update_coordinator.py": """
        from homeassistant.helpers.deprecation import deprecated_function

        class BaseDataUpdateCoordinatorProtocol:
            def _private_hook(self): ...

        class DataUpdateCoordinator(BaseDataUpdateCoordinatorProtocol):
            def __init__(self):
                self._retry_after = None
                self.data = None

            async def _async_update_data(self): ...

            def _schedule_refresh(self): ...

        @deprecated_function("something else")
        def old_helper(): ...
    """,
    "homeassistant/helpers/service.py": "def async_call(): ...\n",
    "homeassistant/helpers/target.py": "class TargetSelection: ...\n",
}


@pytest.fixture
def ha_root(tmp_path: Path) -> Path:
    root = tmp_path / "ha"
    _write(root, HA_TREE)
    return root


def _check(tmp_path: Path, ha_root: Path, files: dict[str, str]) -> list[str]:
    package = tmp_path / "pkg" / "custom_components" / "demo"
    _write(package, {"__init__.py": "", **files})
    return [f"{p.check}: {p.message}" for p in run_checks(package, "custom_components.demo", ha_root)]


def test_a_subclass_reusing_a_private_attribute_is_found(tmp_path: Path, ha_root: Path) -> None:
    """The 2025.12 break: a coordinator with its own ``_retry_after``."""
    found = _check(
        tmp_path,
        ha_root,
        {
            "coordinator.py": """
                from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

                class Base(DataUpdateCoordinator[int]):
                    def __init__(self):
                        super().__init__()
                        self._retry_after = 3
                        self._mine = 1

                    async def _async_update_data(self):
                        return 1

                class Child(Base):
                    def _schedule_refresh(self): ...
            """
        },
    )
    assert found == [
        "collision: Base._retry_after (data) reuses the private data DataUpdateCoordinator._retry_after of "
        "Home Assistant; rename it (or list a documented hook in OVERRIDE_HOOKS)",
        "collision: Child._schedule_refresh (method) reuses the private method "
        "DataUpdateCoordinator._schedule_refresh of Home Assistant; rename it (or list a documented hook in "
        "OVERRIDE_HOOKS)",
    ]


def test_private_names_of_deeper_bases_count(tmp_path: Path, ha_root: Path) -> None:
    found = _check(
        tmp_path,
        ha_root,
        {
            "coordinator.py": """
                from homeassistant.helpers import update_coordinator

                class Mine(update_coordinator.DataUpdateCoordinator):
                    _private_hook = None
            """
        },
    )
    assert len(found) == 1
    assert "BaseDataUpdateCoordinatorProtocol._private_hook" in found[0]


def test_missing_and_deprecated_imports_are_found(tmp_path: Path, ha_root: Path) -> None:
    found = _check(
        tmp_path,
        ha_root,
        {
            "a.py": """
                from homeassistant.helpers.update_coordinator import old_helper, gone
                from homeassistant.helpers import service, nothing_here
                import homeassistant.helpers.absent
            """
        },
    )
    assert sorted(found) == [
        "deprecated: homeassistant.helpers.update_coordinator.old_helper is deprecated",
        "import: homeassistant.helpers has no nothing_here",
        "import: homeassistant.helpers.update_coordinator has no gone",
        "import: no module homeassistant.helpers.absent",
    ]


def test_an_old_api_as_import_fallback_is_allowed_but_the_new_one_must_exist(
    tmp_path: Path, ha_root: Path
) -> None:
    found = _check(
        tmp_path,
        ha_root,
        {
            "compat.py": """
                try:
                    from homeassistant.helpers.target import TargetSelection
                except ImportError:
                    from homeassistant.helpers.old_target import TargetSelection
                try:
                    from homeassistant.helpers.target import NotThereYet
                except ImportError:
                    NotThereYet = None
            """
        },
    )
    assert found == ["import: homeassistant.helpers.target has no NotThereYet"]


def test_banned_apis_are_found_outside_the_compat_module(tmp_path: Path, ha_root: Path) -> None:
    code = """
        def f(hass, registry, device, info, service, call):
            registry.async_get_device({("d", "x")})
            registry.async_update_device(device.id, remove_config_entry_id="e")
            info["via_device"] = ("d", "p")
            entries = device.config_entries
            fine = hass.config_entries.async_entries()
            also_fine = self_hass = hass
            service.async_extract_referenced_entity_ids(hass, call)
            return [d for d in registry.devices.values()]
    """
    found = _check(tmp_path, ha_root, {"entity.py": code, "compat.py": code})
    assert sorted(message.split(" is removed")[0] for message in found) == [
        "banned: async_extract_referenced_entity_ids",
        "banned: async_get_device",
        "banned: config_entries",
        "banned: devices.values",
        "banned: remove_config_entry_id",
        "banned: via_device",
    ]


def test_python_3_14_except_syntax_is_read() -> None:
    """Newer releases use PEP 758 (``except A, B:``), which this Python's parser refuses on its own."""
    tree = parse_source("try:\n    pass\nexcept ValueError, TypeError:\n    pass\n", "x.py")
    handler = tree.body[0].handlers[0]  # type: ignore[attr-defined]
    assert [element.id for element in handler.type.elts] == ["ValueError", "TypeError"]
