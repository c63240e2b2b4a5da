"""Run a local Home Assistant with the Kasify integration against the simulator.

Called by ``scripts/develop`` with the project's venv Python. It:

1. prepares ``config/`` (symlink ``config/custom_components/kasify``, empty include files, the
   generated ``dev`` password in ``config/.develop-credentials``) and installs the frontend
   package Home Assistant pins when it is missing;
2. starts the simulator (``python -m simulator``) and ``hass -c config``, each in its own session
   so a terminal Ctrl-C reaches only this script, which then stops both cleanly;
3. completes onboarding through Home Assistant's onboarding REST API (or logs in with the stored
   credentials when the instance is already onboarded), and removes the met / radio_browser /
   google_translate entries that onboarding adds (they need the internet or ffmpeg);
4. creates the Kasify config entry through the config-flow REST API when none exists;
5. prints the URL, the credentials and how many Kasify entities have a state.

Without ``--check`` it then keeps both processes running until Ctrl-C / SIGTERM (or until one of
them exits). With ``--check`` it verifies that at least one Kasify entity has an available state,
shuts everything down and exits 0 (ok) or 1 (failure).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Mapping
import contextlib
from dataclasses import dataclass, field
import importlib.metadata
import importlib.util
import json
import os
from pathlib import Path
import secrets
import signal
import socket
import subprocess
import sys
import time
from typing import Any, TextIO

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "config"
CREDENTIALS_FILE = CONFIG_DIR / ".develop-credentials"
HA_LOG = CONFIG_DIR / "home-assistant.log"
HA_CONSOLE_LOG = CONFIG_DIR / "hass-console.log"
SIM_LOG = CONFIG_DIR / "simulator.log"

HA_PORT = 8123
HA_URL = f"http://localhost:{HA_PORT}"
# Requests go to the IPv4 loopback; the OAuth client id stays http://localhost:8123/ (the UI's).
HA_API = f"http://127.0.0.1:{HA_PORT}"
CLIENT_ID = f"{HA_URL}/"
REDIRECT_URI = f"{HA_URL}/?auth_callback=1"

SIM_HOST = "127.0.0.1"
SIM_PORT = 8765
SIM_PROPERTIES = 3
SIM_STATE_URL = f"http://{SIM_HOST}:{SIM_PORT}/_sim/state"
KASIFY_URL = f"http://{SIM_HOST}:{SIM_PORT}/kasify/v1"
KASIFY_TOKEN = "sim-kasify-token"  # the simulator's fixed development token, not a secret
CASAVI_URL = f"http://{SIM_HOST}:{SIM_PORT}/casavi"
# The simulator's well-known development credentials, not secrets.
CASAVI_KEY = "sim-casavi-key"
CASAVI_SECRET = "sim-casavi-secret"
NUKI_URL = f"http://{SIM_HOST}:{SIM_PORT}/nuki"
NUKI_TOKEN = "sim-nuki-token"
# The simulator serves UniFi Access over HTTPS on its default --unifi-port; its self-signed certificate is
# derived from the seed (1) and host, so its fingerprint is fixed and pinned here.
UNIFI_PORT = "12445"
UNIFI_TOKEN = "sim-unifi-token"
UNIFI_FINGERPRINT = (
    "74:82:BC:1E:67:64:5C:11:15:00:75:81:3B:08:50:B6:81:B3:7A:3F:71:8F:D6:C5:38:D6:05:65:58:2F:35:52"
)
REMOTELOCK_API_URL = f"http://{SIM_HOST}:{SIM_PORT}/remotelock/api"
REMOTELOCK_OAUTH_URL = f"http://{SIM_HOST}:{SIM_PORT}/remotelock/connect"
REMOTELOCK_CLIENT_ID = "sim-remotelock-client"
REMOTELOCK_CLIENT_SECRET = "sim-remotelock-secret"
# Account kinds the develop instance adds, with the answers to their config-flow form.
ACCOUNTS: dict[str, dict[str, str]] = {
    "kasify": {"url": KASIFY_URL, "api_token": KASIFY_TOKEN},
    "nuki": {"url": NUKI_URL, "api_token": NUKI_TOKEN},
    "casavi": {"url": CASAVI_URL, "key": CASAVI_KEY, "secret": CASAVI_SECRET},
    "unifi_access": {
        "host": SIM_HOST,
        "port": UNIFI_PORT,
        "api_token": UNIFI_TOKEN,
        "fingerprint": UNIFI_FINGERPRINT,
    },
    # The client-credentials grant (signing in through a browser is not scripted here).
    "remotelock": {
        "client_id": REMOTELOCK_CLIENT_ID,
        "client_secret": REMOTELOCK_CLIENT_SECRET,
        "url": REMOTELOCK_API_URL,
        "oauth_url": REMOTELOCK_OAUTH_URL,
    },
}
# A kind whose own step is a menu: the option to take there.
MENU_CHOICES: dict[str, str] = {"remotelock": "remotelock_client"}

DOMAIN = "kasify"
ONBOARDING_STEPS = ("user", "core_config", "analytics", "integration")  # in Home Assistant's order
# Entries the core_config onboarding step creates that cannot work here (internet, ffmpeg).
ONBOARDING_DOMAINS_TO_REMOVE = ("met", "radio_browser", "google_translate")
USERNAME = "dev"
USER_DISPLAY_NAME = "Dev"

HTTP_OK = 200
HTTP_NOT_FOUND = 404
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)


class BootstrapError(Exception):
    """A step failed; the message says which and what to look at."""


class WaitTimeoutError(BootstrapError):
    """Something did not become ready in time."""


class NotReadyError(Exception):
    """Raised by a readiness probe: the thing answered but is not ready yet."""


@dataclass
class Child:
    """A background process started by this script."""

    name: str
    process: asyncio.subprocess.Process
    log_path: Path
    log_file: TextIO
    stop_timeout: float

    @property
    def running(self) -> bool:
        """Return True while the process has not exited."""
        return self.process.returncode is None


@dataclass
class Children:
    """The simulator and Home Assistant processes, stopped in reverse start order."""

    items: list[Child] = field(default_factory=list)

    async def start(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        env: Mapping[str, str],
        stop_timeout: float,
    ) -> Child:
        """Start ``argv`` in its own session with stdout/stderr written to ``log_path``."""
        log_file = _open_log(log_path)
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        child = Child(name, process, log_path, log_file, stop_timeout)
        self.items.append(child)
        print(f"[develop] started {name} (pid {process.pid}), output in {_rel(log_path)}")
        return child

    async def stop_all(self) -> None:
        """Stop every child: SIGTERM to its process group, SIGKILL after its timeout."""
        for child in reversed(self.items):
            await _stop_child(child)
        self.items.clear()

    def kill_all(self) -> None:
        """SIGKILL every child's process group immediately (second Ctrl-C)."""
        for child in self.items:
            if child.running:
                _signal_group(child.process.pid, signal.SIGKILL)


def _open_log(path: Path) -> TextIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w", encoding="utf-8")


def _rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(REPO_ROOT))
    return str(path)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def _stop_child(child: Child) -> None:
    if child.running:
        print(f"[develop] stopping {child.name} (pid {child.process.pid})")
        _signal_group(child.process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(child.process.wait(), child.stop_timeout)
        except TimeoutError:
            print(f"[develop] {child.name} did not stop in {child.stop_timeout:.0f}s; killing it")
            _signal_group(child.process.pid, signal.SIGKILL)
            await child.process.wait()
    # Leftovers of the group (e.g. a pip run started by Home Assistant) go too.
    _signal_group(child.process.pid, signal.SIGKILL)
    child.log_file.close()


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --------------------------------------------------------------------------- config/ preparation


def prepare_config_dir() -> dict[str, str]:
    """Prepare config/ and return the stored (or newly generated) credentials."""
    if not (CONFIG_DIR / "configuration.yaml").is_file():
        raise BootstrapError(f"{_rel(CONFIG_DIR / 'configuration.yaml')} is missing")

    custom = CONFIG_DIR / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / DOMAIN
    target = Path("..") / ".." / "custom_components" / DOMAIN
    if link.is_symlink():
        if link.readlink() != target:
            link.unlink()
    elif link.exists():
        raise BootstrapError(
            f"{_rel(link)} exists and is not a symlink; remove it "
            f"(scripts/develop links it to custom_components/{DOMAIN})"
        )
    if not link.is_symlink():
        link.symlink_to(target, target_is_directory=True)

    # Files that configuration.yaml !includes (the UI editors write to them).
    for name, initial in (("automations.yaml", "[]\n"), ("scripts.yaml", "")):
        path = CONFIG_DIR / name
        if not path.exists():
            path.write_text(initial, encoding="utf-8")

    if CREDENTIALS_FILE.exists():
        try:
            stored = json.loads(CREDENTIALS_FILE.read_text(encoding="utf-8"))
            if not isinstance(stored, dict) or not isinstance(stored.get("password"), str):
                raise TypeError("no password")  # noqa: TRY301
        except (ValueError, TypeError) as err:
            raise BootstrapError(
                f"{_rel(CREDENTIALS_FILE)} is unreadable ({err}); delete it together with "
                "config/.storage to start from a fresh instance"
            ) from err
        return {"username": str(stored.get("username", USERNAME)), "password": stored["password"]}

    creds = {"username": USERNAME, "password": secrets.token_urlsafe(15)}
    fd = os.open(CREDENTIALS_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(creds, handle)
        handle.write("\n")
    return creds


def ensure_frontend_package() -> None:
    """Install home-assistant-frontend at the version Home Assistant's manifest pins.

    Home Assistant would install it itself on first start; doing it here makes a failure visible
    (and keeps the first start from waiting behind a large download).
    """
    spec = importlib.util.find_spec("homeassistant")
    if spec is None or spec.origin is None:
        raise BootstrapError("homeassistant is not installed in this venv (run scripts/setup)")
    manifest = Path(spec.origin).parent / "components" / "frontend" / "manifest.json"
    requirements: list[str] = json.loads(manifest.read_text(encoding="utf-8"))["requirements"]
    for requirement in requirements:
        name, _, version = requirement.partition("==")
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed == version:
            continue
        print(f"[develop] installing {requirement} (frontend for Home Assistant)")
        result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", requirement], check=False)
        if result.returncode != 0:
            raise BootstrapError(f"pip install {requirement} failed")


# --------------------------------------------------------------------------- HTTP helpers


async def _wait_until[T](
    what: str,
    probe: Callable[[], Awaitable[T]],
    seconds: float,
    children: list[Child],
    interval: float = 1.0,
) -> T:
    """Call ``await probe()`` until it returns a value, a child dies or time runs out.

    The probe raises :class:`NotReadyError` (or a connection error) while it is not ready.
    """
    deadline = time.monotonic() + seconds
    last_error = "no answer yet"
    while True:
        for child in children:
            if not child.running:
                raise BootstrapError(
                    f"{child.name} exited with code {child.process.returncode} while waiting "
                    f"for {what}; last output ({_rel(child.log_path)}):\n{_tail(child.log_path)}"
                )
        try:
            value = await probe()
        except NotReadyError as err:
            last_error = str(err)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            last_error = f"{type(err).__name__}: {err}"
        else:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeoutError(f"timed out after {seconds:.0f}s waiting for {what} ({last_error})")
        await asyncio.sleep(interval)


async def _json(response: aiohttp.ClientResponse, what: str) -> Any:
    if response.status != HTTP_OK:
        body = (await response.text())[:500]
        raise BootstrapError(f"{what}: HTTP {response.status}: {body}")
    return await response.json(content_type=None)


@dataclass
class HomeAssistantApi:
    """Just enough of Home Assistant's REST and websocket APIs."""

    session: aiohttp.ClientSession
    token: str | None = None

    @property
    def _auth(self) -> dict[str, str]:
        if self.token is None:
            raise BootstrapError("not logged in")
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, *, auth: bool = True) -> Any:
        """GET ``path`` and return the decoded JSON body (HTTP 200 only)."""
        headers = self._auth if auth else {}
        async with self.session.get(f"{HA_API}{path}", headers=headers) as response:
            return await _json(response, f"GET {path}")

    async def post(self, path: str, payload: Any = None, *, auth: bool = True) -> Any:
        """POST JSON to ``path`` and return the decoded JSON body (HTTP 200 only)."""
        headers = self._auth if auth else {}
        async with self.session.post(
            f"{HA_API}{path}", json=payload if payload is not None else {}, headers=headers
        ) as response:
            return await _json(response, f"POST {path}")

    async def delete(self, path: str) -> Any:
        """DELETE ``path`` and return the decoded JSON body (HTTP 200 only)."""
        async with self.session.delete(f"{HA_API}{path}", headers=self._auth) as response:
            return await _json(response, f"DELETE {path}")

    async def exchange_auth_code(self, code: str) -> None:
        """Trade an authorization code for an access token (``/auth/token``)."""
        form = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID}
        async with self.session.post(f"{HA_API}/auth/token", data=form) as response:
            tokens = await _json(response, "POST /auth/token")
        self.token = str(tokens["access_token"])

    async def websocket_command(self, command: dict[str, Any]) -> Any:
        """Run one websocket command and return its result."""
        if self.token is None:
            raise BootstrapError("not logged in")
        async with self.session.ws_connect(f"{HA_API}/api/websocket") as ws:
            hello = await ws.receive_json()
            if hello.get("type") != "auth_required":
                raise BootstrapError(f"websocket: unexpected greeting {hello}")
            await ws.send_json({"type": "auth", "access_token": self.token})
            auth = await ws.receive_json()
            if auth.get("type") != "auth_ok":
                raise BootstrapError(f"websocket: authentication failed: {auth}")
            await ws.send_json({"id": 1, **command})
            while True:
                message = await ws.receive_json()
                if message.get("id") == 1 and message.get("type") == "result":
                    break
        if not message.get("success"):
            raise BootstrapError(f"websocket {command['type']}: {message.get('error')}")
        return message["result"]


# --------------------------------------------------------------------------- onboarding


async def onboarding_steps_done(api: HomeAssistantApi) -> set[str] | None:
    """Return the finished onboarding steps, or None when onboarding is complete.

    A Home Assistant that starts fully onboarded does not register ``/api/onboarding`` (HTTP 404).
    """
    async with api.session.get(f"{HA_API}/api/onboarding") as response:
        if response.status == HTTP_NOT_FOUND:
            return None
        steps = await _json(response, "GET /api/onboarding")
    done = {step["step"] for step in steps if step["done"]}
    return None if done >= set(ONBOARDING_STEPS) else done


async def onboard_or_login(api: HomeAssistantApi, creds: dict[str, str]) -> tuple[bool, bool]:
    """Finish onboarding (creating the user) or log in.

    Returns:
        (user created now, ``core_config`` step finished now)
    """
    done = await onboarding_steps_done(api)
    if done is None:
        print("[develop] already onboarded; logging in")
        await login(api, creds)
        return False, False
    created = False

    if "user" not in done:
        print(f"[develop] onboarding: creating the owner user {creds['username']!r}")
        result = await api.post(
            "/api/onboarding/users",
            {
                "client_id": CLIENT_ID,
                "name": USER_DISPLAY_NAME,
                "username": creds["username"],
                "password": creds["password"],
                "language": "en",
            },
            auth=False,
        )
        await api.exchange_auth_code(result["auth_code"])
        created = True
    else:
        await login(api, creds)

    for step in ONBOARDING_STEPS[1:]:
        if step in done:
            continue
        print(f"[develop] onboarding: finishing step {step!r}")
        payload: dict[str, str] = {}
        if step == "integration":
            payload = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI}
        await api.post(f"/api/onboarding/{step}", payload)

    if (partly := await onboarding_steps_done(api)) is not None:
        raise BootstrapError(f"onboarding did not complete; steps done: {sorted(partly)}")
    return created, "core_config" not in done


async def remove_onboarding_entries(api: HomeAssistantApi, seconds: float) -> None:
    """Remove the entries that finishing onboarding adds and that cannot work here.

    The ``core_config`` onboarding step starts config flows for met, radio_browser,
    google_translate and shopping_list. Weather and radio need the internet and would retry (and
    log) forever; text-to-speech needs ffmpeg. They are removed as soon as they appear (polling
    for ``seconds`` after onboarding; one pass on later starts).
    """
    deadline = time.monotonic() + seconds
    pending = set(ONBOARDING_DOMAINS_TO_REMOVE)
    while True:
        with contextlib.suppress(BootstrapError, aiohttp.ClientError, TimeoutError):
            for entry in await api.get("/api/config/config_entries/entry"):
                domain = entry.get("domain")
                if domain in pending and entry.get("source") == "onboarding":
                    await api.delete(f"/api/config/config_entries/entry/{entry['entry_id']}")
                    pending.discard(domain)
                    print(f"[develop] removed the {domain!r} entry that onboarding adds")
        if not pending or time.monotonic() >= deadline:
            return
        await asyncio.sleep(2)


async def login(api: HomeAssistantApi, creds: dict[str, str]) -> None:
    """Log in through the login flow with the stored credentials."""
    flow = await api.post(
        "/auth/login_flow",
        {
            "client_id": CLIENT_ID,
            "handler": ["homeassistant", None],
            "redirect_uri": REDIRECT_URI,
        },
        auth=False,
    )
    result = await api.post(
        f"/auth/login_flow/{flow['flow_id']}",
        {"client_id": CLIENT_ID, "username": creds["username"], "password": creds["password"]},
        auth=False,
    )
    if result.get("type") != "create_entry":
        raise BootstrapError(
            f"login as {creds['username']!r} failed ({result.get('errors')}). The instance in "
            f"config/ was onboarded with other credentials than {_rel(CREDENTIALS_FILE)}; "
            "delete config/.storage (and that file) to start from a fresh instance"
        )
    await api.exchange_auth_code(result["result"])


# --------------------------------------------------------------------------- Kasify config entry


async def kasify_entries(api: HomeAssistantApi) -> list[dict[str, Any]]:
    """Return the Kasify config entries."""
    entries = await api.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
    return [entry for entry in entries if entry.get("domain") == DOMAIN]


async def create_entry(api: HomeAssistantApi, kind: str) -> dict[str, Any] | None:
    """Walk the config flow: menu ``user`` -> option ``kind`` -> its form; None if already configured."""
    answers = ACCOUNTS[kind]
    result = await api.post(
        "/api/config/config_entries/flow", {"handler": DOMAIN, "show_advanced_options": False}
    )
    for _ in range(5):
        result_type = result.get("type")
        flow_id = result.get("flow_id")
        step = result.get("step_id")
        if result_type == "create_entry":
            entry: dict[str, Any] = result.get("result") or {}
            print(f"[develop] created config entry {result.get('title')!r} ({entry.get('state')})")
            return entry
        if result_type == "menu":
            options = result.get("menu_options") or []
            choice = kind if kind in options else MENU_CHOICES.get(kind)
            if choice not in options:
                raise BootstrapError(f"config flow menu {step!r} has no {kind!r}: {options}")
            payload: dict[str, Any] = {"next_step_id": choice}
        elif result_type == "form":
            if result.get("errors"):
                raise BootstrapError(f"config flow step {step!r} errors: {result['errors']}")
            schema = result.get("data_schema") or []
            names = {item["name"] for item in schema}
            missing = [
                item["name"]
                for item in schema
                if item.get("required") and item["name"] not in answers and "default" not in item
            ]
            if missing:
                raise BootstrapError(f"config flow step {step!r} asks for {missing}")
            payload = {key: value for key, value in answers.items() if key in names}
        elif result_type == "abort":
            if result.get("reason") == "already_configured":
                print(f"[develop] the {kind} account is already set up")
                return None
            raise BootstrapError(f"config flow aborted: {result.get('reason')}")
        else:
            raise BootstrapError(f"unexpected config flow result: {result}")
        result = await api.post(f"/api/config/config_entries/flow/{flow_id}", payload)
    raise BootstrapError(f"config flow did not finish after 5 steps: {result}")


async def kasify_entity_states(api: HomeAssistantApi) -> list[dict[str, Any]]:
    """Return the states of the entities the kasify platform provides in this run.

    Registered entities that the integration did not add this time only have a placeholder state
    restored from the registry (attribute ``restored: true``); those are left out.
    """
    registry = await api.websocket_command({"type": "config/entity_registry/list"})
    ours = {item["entity_id"] for item in registry if item.get("platform") == DOMAIN}
    states = await api.get("/api/states")
    return [
        state
        for state in states
        if state["entity_id"] in ours and not state.get("attributes", {}).get("restored")
    ]


def _available(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [state for state in states if state.get("state") != "unavailable"]


# --------------------------------------------------------------------------- orchestration


async def run(args: argparse.Namespace, children: Children) -> int:
    """Bring everything up, print the summary, then either wait or check."""
    for port, name in ((HA_PORT, "Home Assistant"), (SIM_PORT, "the simulator")):
        if port == SIM_PORT and not args.start_simulator:
            continue
        if _port_in_use(port):
            raise BootstrapError(
                f"port {port} (for {name}) is already in use; is another scripts/develop running?"
            )

    creds = prepare_config_dir()
    ensure_frontend_package()

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"

    background: list[asyncio.Task[None]] = []
    try:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
            api = HomeAssistantApi(session)
            watched = await start_processes(args, children, session, env)
            created_user = await bring_up_home_assistant(args, api, creds, watched, background)
            entry_state, states = await set_up_kasify(args, api, watched)
            _print_summary(
                creds,
                created_user=created_user,
                entry_state=entry_state,
                states=states,
                simulator=args.create_entry,
            )
            if args.check:
                # Let a fresh instance finish removing the onboarding entries before stopping.
                await asyncio.wait(background, timeout=30)
                ok = bool(_available(states)) or not args.create_entry
                verdict = "PASSED" if ok else "FAILED: no kasify entity has an available state"
                print(f"[develop] check {verdict}")
                if not ok:
                    _print_kasify_log_lines()
                return 0 if ok else 1
            return await wait_for_exit(watched)
    finally:
        for task in background:
            task.cancel()


async def start_processes(
    args: argparse.Namespace,
    children: Children,
    session: aiohttp.ClientSession,
    env: dict[str, str],
) -> list[Child]:
    """Start the simulator (unless told not to) and Home Assistant; return them."""
    watched: list[Child] = []

    async def sim_ready() -> None:
        async with session.get(SIM_STATE_URL) as response:
            if response.status != HTTP_OK:
                raise NotReadyError(f"GET /_sim/state answered HTTP {response.status}")

    if args.start_simulator:
        if not (REPO_ROOT / "simulator" / "__main__.py").is_file():
            raise BootstrapError("simulator/__main__.py does not exist (yet?)")
        sim_argv = [sys.executable, "-m", "simulator", "--host", SIM_HOST, "--port", str(SIM_PORT)]
        sim_argv += ["--properties", str(SIM_PROPERTIES)]
        watched.append(await children.start("simulator", sim_argv, SIM_LOG, env, stop_timeout=10))
    if args.create_entry:
        await _wait_until("the simulator (GET /_sim/state)", sim_ready, 60, watched)
        print(f"[develop] simulator ready at {KASIFY_URL}")

    hass_argv = [sys.executable, "-m", "homeassistant", "--config", str(CONFIG_DIR)]
    hass_argv += ["--log-file", str(HA_LOG), "--log-no-color"]
    watched.append(await children.start("Home Assistant", hass_argv, HA_CONSOLE_LOG, env, stop_timeout=90))
    return watched


async def bring_up_home_assistant(
    args: argparse.Namespace,
    api: HomeAssistantApi,
    creds: dict[str, str],
    watched: list[Child],
    background: list[asyncio.Task[None]],
) -> bool:
    """Wait for Home Assistant, onboard or log in, wait until it runs; True if the user is new."""

    async def http_answers() -> None:
        # The HTTP server starts once the frontend (which depends on onboarding) is set up.
        async with api.session.get(f"{HA_API}/api/onboarding") as response:
            if response.status not in (HTTP_OK, HTTP_NOT_FOUND):
                raise NotReadyError(f"GET /api/onboarding answered HTTP {response.status}")

    async def core_running() -> None:
        state = (await api.get("/api/core/state")).get("state")
        if state != "RUNNING":
            raise NotReadyError(f"core state is {state}")

    await _wait_until(f"Home Assistant at {HA_URL}", http_answers, args.timeout, watched)
    print(f"[develop] Home Assistant answers at {HA_URL}")
    created_user, core_config_now = await onboard_or_login(api, creds)
    cleanup = remove_onboarding_entries(api, seconds=180 if core_config_now else 0)
    background.append(asyncio.create_task(cleanup))
    await _wait_until("Home Assistant to finish starting", core_running, args.timeout, watched)
    return created_user


async def set_up_kasify(
    args: argparse.Namespace, api: HomeAssistantApi, watched: list[Child]
) -> tuple[str, list[dict[str, Any]]]:
    """Create the Kasify entry when missing; return its state and the Kasify entity states."""
    if not args.create_entry:
        return "not created (--no-entry)", []

    # Each flow aborts with already_configured when its account exists, so this is safe to repeat.
    for kind in ACCOUNTS:
        await create_entry(api, kind)

    async def entries_settled() -> list[dict[str, Any]]:
        current = await kasify_entries(api)
        if not current:
            raise NotReadyError(f"no {DOMAIN} config entry")
        if any(e.get("state") in ("not_loaded", "setup_in_progress") for e in current):
            raise NotReadyError(f"entry states: {[e.get('state') for e in current]}")
        return current

    async def some_kasify_states() -> list[dict[str, Any]]:
        states = await kasify_entity_states(api)
        if not _available(states):
            raise NotReadyError(
                f"{len(states)} entities of the {DOMAIN} platform have a state, none available"
            )
        return states

    settled = await _wait_until("the kasify entry to set up", entries_settled, 60, watched)
    entry_state = ", ".join(f"{e.get('title')}: {e.get('state')}" for e in settled)
    states: list[dict[str, Any]] = []
    with contextlib.suppress(WaitTimeoutError):
        states = await _wait_until("kasify entity states", some_kasify_states, args.entity_timeout, watched)
    if not states:
        states = await kasify_entity_states(api)
    return entry_state, states


async def wait_for_exit(watched: list[Child]) -> int:
    """Block until a child exits (Ctrl-C / SIGTERM cancel this); that is a failure."""
    print("[develop] running; press Ctrl-C to stop both processes")
    waits = [asyncio.create_task(child.process.wait()) for child in watched]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
    for child in watched:
        if not child.running:
            print(
                f"[develop] {child.name} exited with code {child.process.returncode}; "
                f"last output ({_rel(child.log_path)}):\n{_tail(child.log_path)}"
            )
    return 1


def _print_summary(
    creds: dict[str, str],
    *,
    created_user: bool,
    entry_state: str,
    states: list[dict[str, Any]],
    simulator: bool,
) -> None:
    by_domain: dict[str, int] = {}
    for state in states:
        domain = state["entity_id"].split(".", 1)[0]
        by_domain[domain] = by_domain.get(domain, 0) + 1
    breakdown = ", ".join(f"{count} {domain}" for domain, count in sorted(by_domain.items()))
    print()
    print("=" * 72)
    print(f"  Home Assistant:  {HA_URL}")
    print(f"  User name:       {creds['username']}" + ("  (created now)" if created_user else ""))
    print(f"  Password:        {creds['password']}  (stored in {_rel(CREDENTIALS_FILE)})")
    print(f"  Entries:         {entry_state}")
    unavailable = len(states) - len(_available(states))
    print(
        f"  Kasify entities: {len(states)} with a state"
        + (f" ({breakdown})" if states else "")
        + (f", {unavailable} unavailable" if unavailable else "")
    )
    if simulator:
        print(f"  Simulator:       {KASIFY_URL}  (token {KASIFY_TOKEN})")
    print(f"  Logs:            {_rel(HA_LOG)}, {_rel(HA_CONSOLE_LOG)}, {_rel(SIM_LOG)}")
    print("=" * 72)
    print()


def _print_kasify_log_lines(limit: int = 30) -> None:
    try:
        lines = HA_LOG.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    interesting = [
        line
        for line in lines
        if DOMAIN in line
        and (" ERROR " in line or " WARNING " in line)
        and "has not been tested by Home Assistant" not in line
    ]
    if interesting:
        print(f"[develop] kasify warnings/errors in {_rel(HA_LOG)}:")
        print("\n".join(interesting[-limit:]))


async def main_async(args: argparse.Namespace) -> int:
    """Run :func:`run`, stopping the children on exit, Ctrl-C or SIGTERM."""
    children = Children()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig.name)
        if stop.is_set():
            print(f"[develop] {sig.name} again: killing everything")
            children.kill_all()
            return
        print(f"\n[develop] {sig.name} received: stopping")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal, sig)

    work = asyncio.create_task(run(args, children))
    stopper = asyncio.create_task(stop.wait())
    rc = 1
    try:
        await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if work.done():
            rc = work.result()
        else:
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError, BootstrapError):
                await work
            rc = 130 if received and received[0] == "SIGINT" else 143
            if args.check:
                rc = 1
    except (BootstrapError, aiohttp.ClientError, TimeoutError) as err:
        print(f"[develop] ERROR: {type(err).__name__}: {err}", file=sys.stderr)
        rc = 1
    finally:
        stopper.cancel()
        await children.stop_all()
        print("[develop] stopped")
    return rc


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description="Run Home Assistant with the Kasify integration against the simulator.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="bring everything up, verify a kasify entity has a state, shut down, exit 0/1",
    )
    parser.add_argument(
        "--no-simulator",
        dest="start_simulator",
        action="store_false",
        help=f"do not start the simulator; use the one already listening on {SIM_HOST}:{SIM_PORT}",
    )
    parser.add_argument(
        "--no-entry",
        dest="create_entry",
        action="store_false",
        help="do not create the kasify config entry (Home Assistant and onboarding only; "
        "implies --no-simulator)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="seconds to wait for Home Assistant to answer and finish starting (default 300)",
    )
    parser.add_argument(
        "--entity-timeout",
        type=float,
        default=60,
        help="seconds to wait for the first kasify entity state (default 60)",
    )
    args = parser.parse_args(argv)
    if not args.create_entry and args.start_simulator:
        # Nothing would use it.
        args.start_simulator = False
    return args


def main() -> int:
    """Entry point."""
    return asyncio.run(main_async(parse_args(sys.argv[1:])))


if __name__ == "__main__":
    sys.exit(main())
