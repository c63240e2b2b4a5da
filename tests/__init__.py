"""Tests for the Kasify integration."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

# The shared helpers assert too: let pytest explain their failures.
pytest.register_assert_rewrite("tests.providers")


async def setup_integration(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add ``entry`` and set it up."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
