"""The end-to-end run: the simulator and a real ``hass`` process, started once for every test in this folder.

They run on free ephemeral ports in a temporary config folder, through the same orchestration as
``scripts/develop`` (``scripts/kasify_dev``): onboarding through Home Assistant's API, the Kasify, Nuki Web,
casavi, UniFi Access and RemoteLock accounts through the config-flow REST API. Tests talk to Home Assistant
over its WebSocket API and to the simulator over the vendors' APIs.

This folder has its own pytest rules (``pytest.ini``): the unit-test harness (pytest-homeassistant-custom-
component's autouse fixtures and socket blocking) is off, and ``tests/conftest.py`` is not loaded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
import os
import time
from typing import TYPE_CHECKING, Any

import aiohttp
from harness import TIMINGS, SimulatedUpstreams
from kasify_dev import HaWebSocket, Instance, Settings, free_port, tail
import pytest
from ui import ARTIFACTS, SCREENSHOTS, WARNINGS, clear_screenshots, save_screenshot

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page


_RUNNING: list[Settings] = []


@pytest.fixture(scope="session")
def e2e_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A config folder of its own and ports nothing else uses (a develop instance may run on 8123)."""
    settings = Settings(
        config_dir=tmp_path_factory.mktemp("kasify-e2e"),
        ha_port=free_port(),
        sim_port=free_port(),
        unifi_port=free_port(),
        start_timeout=150,
        label="e2e",
    )
    _RUNNING.append(settings)
    return settings


@pytest.fixture(scope="session")
async def instance(e2e_settings: Settings) -> AsyncIterator[Instance]:
    """The simulator and Home Assistant, onboarded, every account added and its entities up."""
    started_at = time.monotonic()
    async with Instance(e2e_settings) as running:
        await running.start()
        TIMINGS["start (simulator + Home Assistant + 5 accounts)"] = time.monotonic() - started_at
        yield running
        stopping_at = time.monotonic()
    TIMINGS["final stop"] = time.monotonic() - stopping_at


@pytest.fixture
async def ws(instance: Instance) -> AsyncIterator[HaWebSocket]:
    """A WebSocket connection to Home Assistant, logged in as the owner."""
    async with instance.api.websocket() as connection:
        yield connection


@pytest.fixture
def upstreams(instance: Instance) -> SimulatedUpstreams:
    """The simulator, read and changed through the vendors' APIs."""
    return SimulatedUpstreams(instance.session, instance.settings)


@pytest.fixture
def session(instance: Instance) -> aiohttp.ClientSession:
    """The HTTP session of the run."""
    return instance.session


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, Any]:
    """On a failure, show what Home Assistant and the simulator logged."""
    report = yield
    if report.when == "call":
        item.call_report = report  # type: ignore[attr-defined]  # read by the page fixture's teardown
    if report.failed and _RUNNING:
        settings = _RUNNING[-1]
        for path, lines in ((settings.ha_log, 80), (settings.ha_console_log, 30), (settings.sim_log, 20)):
            report.sections.append((f"{path.name} (last {lines} lines, {path})", tail(path, lines)))
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How long the slow parts took."""
    if TIMINGS:
        terminalreporter.section("e2e timings")
        for what, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{what}: {seconds:.1f} s")
    if _RUNNING:
        terminalreporter.write_line(f"config folder and logs: {_RUNNING[-1].config_dir}")
    if SCREENSHOTS:
        terminalreporter.write_line(f"screenshots ({len(SCREENSHOTS)}): {ARTIFACTS}")
    for warning in WARNINGS:
        terminalreporter.write_line(f"WARNING: {warning}", yellow=True)


# --- the browser (tests marked `browser`) -------------------------------------------------------------

CHROMIUM = os.environ.get("KASIFY_CHROMIUM", "/usr/bin/chromium")
PAGE_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """Headless Chromium (Debian's ``chromium``) driven by Playwright; skipped, loudly, without it."""
    try:
        from playwright.async_api import async_playwright, expect  # only the browser tests need it
    except ImportError:
        pytest.skip(
            "BROWSER TESTS SKIPPED: the playwright package is missing (pip install -r requirements_test.txt)"
        )
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            f"BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM} (apt-get install chromium, as scripts/test "
            "does, or set KASIFY_CHROMIUM)"
        )
    clear_screenshots()
    # The first page load fetches the whole frontend: more than expect()'s 5 s on a busy machine.
    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    async with async_playwright() as playwright:
        # Not Playwright's own browser build (it cannot be downloaded here): the system's, no sandbox (root).
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
async def logged_in(chromium: Browser, instance: Instance) -> AsyncIterator[BrowserContext]:
    """A browser session logged in to Home Assistant through its login page, as the owner."""
    context = await chromium.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(f"{instance.settings.ha_url}/")
    await page.get_by_label("Username").fill(instance.creds["username"])
    await page.get_by_label("Password", exact=True).fill(instance.creds["password"])
    await save_screenshot(page, "login")
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(lambda url: "/auth/" not in url and "auth_callback" not in url)
    await page.close()
    yield context
    await context.close()


@pytest.fixture
async def page(logged_in: BrowserContext, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A tab of the logged-in browser; a failing test leaves a screenshot of it."""
    tab = await logged_in.new_page()
    yield tab
    report = getattr(request.node, "call_report", None)
    if report is not None and report.failed:
        await save_screenshot(tab, f"{request.node.name}-failure")
    await tab.close()
