"""Clean-install smoke test: the integration on a Home Assistant that has only what a user's would have.

Run by ``scripts/test`` with the Python of a venv that holds ``homeassistant`` and the manifest's
requirements and nothing else (no test requirements). It

1. imports every module of ``custom_components.kasify`` (a third-party import missing from the manifest
   fails here, as it would for every user installing through HACS);
2. starts the bundled simulator and a Home Assistant core (``bootstrap.async_setup_hass``, pip disabled so
   nothing missing is quietly installed) in a temporary config folder;
3. adds a Kasify account through the config flow, as the UI does, and checks that the entry loads and that
   its entities have states;
4. stops both.

Exit status 0 when all of it works, 1 otherwise (with what failed).
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
import pkgutil
import shutil
import socket
import sys
import tempfile
import threading
import traceback

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

DOMAIN = "kasify"


def import_every_module() -> list[str]:
    """Import the package and all its modules; the failures, as lines."""
    failures: list[str] = []
    root = REPO_ROOT / "custom_components" / DOMAIN
    # Found by file, so that one broken module does not hide the others.
    names = [f"custom_components.{DOMAIN}"] + [
        info.name for info in pkgutil.walk_packages([str(root)], prefix=f"custom_components.{DOMAIN}.")
    ]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - every failure is reported
            failures.append(f"{name}: {type(err).__name__}: {err}")
    print(f"[clean-install] imported {len(names) - len(failures)} of {len(names)} modules")
    return failures


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def set_up_against_the_simulator(config_dir: Path) -> list[str]:
    """A Home Assistant core with a Kasify entry added through the config flow; the failures, as lines."""
    from homeassistant import bootstrap, runner  # imported after the import check above
    from homeassistant.config_entries import ConfigEntryState
    from homeassistant.helpers import entity_registry as er

    from simulator import Simulator, SimulatorConfig

    (config_dir / "configuration.yaml").write_text(
        "homeassistant:\n  name: Clean install\n  time_zone: Europe/Madrid\n"
        f"http:\n  server_host: 127.0.0.1\n  server_port: {_free_port()}\n"
        # Only what concerns the integration: errors of Home Assistant itself (no JPEG library for the
        # camera component on a bare machine, ...) are not this test's subject.
        "logger:\n  default: critical\n  logs:\n    custom_components.kasify: warning\n",
        encoding="utf-8",
    )
    failures: list[str] = []
    simulator = Simulator(SimulatorConfig(properties=3))
    async with simulator.serve(host="127.0.0.1", port=0):
        hass = await bootstrap.async_setup_hass(
            runner.RuntimeConfig(config_dir=str(config_dir), skip_pip=True)
        )
        if hass is None:
            return ["Home Assistant did not start (see home-assistant.log in the config folder)"]
        try:
            result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"next_step_id": "kasify"}
            )
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"url": simulator.kasify_url, "api_token": simulator.config.token}
            )
            if result["type"] != "create_entry":
                failures.append(f"the config flow ended with {result['type']}: {result.get('errors')}")
            await hass.async_block_till_done()
            entries = hass.config_entries.async_entries(DOMAIN)
            if not entries or entries[0].state is not ConfigEntryState.LOADED:
                state = entries[0].state if entries else "no entry"
                failures.append(f"the Kasify entry did not load: {state}")
            registry = er.async_get(hass)
            entities = [
                entity
                for entry in entries
                for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
            ]
            available = [
                entity.entity_id
                for entity in entities
                if (state := hass.states.get(entity.entity_id)) is not None and state.state != "unavailable"
            ]
            print(f"[clean-install] {len(available)} of {len(entities)} Kasify entities have a state")
            if not available:
                failures.append("no Kasify entity has a state")
        finally:
            await hass.async_stop()
    return failures


def main() -> int:
    """Run the smoke test; print what failed."""
    failures = import_every_module()
    if not failures:
        config_dir = Path(tempfile.mkdtemp(prefix="kasify-clean-install-"))
        try:
            failures = asyncio.run(set_up_against_the_simulator(config_dir))
        except Exception:  # noqa: BLE001 - reported below
            failures = [traceback.format_exc()]
        # Home Assistant's guard against blocking calls in its event loop outlives the loop; a thread of
        # its own keeps the cleanup clear of it.
        cleanup = threading.Thread(target=shutil.rmtree, args=(config_dir,), kwargs={"ignore_errors": True})
        cleanup.start()
        cleanup.join()
    for failure in failures:
        print(f"[clean-install] FAILED: {failure}", file=sys.stderr)
    if not failures:
        print(
            "[clean-install] OK: a bare Home Assistant imports the integration and sets up a Kasify account"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
