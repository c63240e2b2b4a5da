"""Where an instance runs (ports, config folder, simulator options) and what it is set up with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from .processes import REPO_ROOT

DOMAIN: Final = "kasify"

# The configuration every instance starts from: scripts/develop runs in this folder, others get a copy.
DEVELOP_CONFIG_DIR: Final = REPO_ROOT / "config"
CONFIGURATION_TEMPLATE: Final = DEVELOP_CONFIG_DIR / "configuration.yaml"
# configuration.yaml reads the port and the internal URL from these (!env_var, 8123 when unset).
ENV_HA_PORT: Final = "KASIFY_HA_PORT"
ENV_HA_INTERNAL_URL: Final = "KASIFY_HA_INTERNAL_URL"

SIM_HOST: Final = "127.0.0.1"
# The simulator's well-known development credentials, not secrets.
KASIFY_TOKEN: Final = "sim-kasify-token"
CASAVI_KEY: Final = "sim-casavi-key"
CASAVI_SECRET: Final = "sim-casavi-secret"
NUKI_TOKEN: Final = "sim-nuki-token"
UNIFI_TOKEN: Final = "sim-unifi-token"
# The simulator's UniFi Access certificate is derived from its seed (1, the default) and host, so its
# fingerprint is fixed, whatever the port, and pinned here.
UNIFI_FINGERPRINT: Final = (
    "74:82:BC:1E:67:64:5C:11:15:00:75:81:3B:08:50:B6:81:B3:7A:3F:71:8F:D6:C5:38:D6:05:65:58:2F:35:52"
)
REMOTELOCK_CLIENT_ID: Final = "sim-remotelock-client"
REMOTELOCK_CLIENT_SECRET: Final = "sim-remotelock-secret"

# Account kinds an instance adds, in this order.
ACCOUNT_KINDS: Final = ("kasify", "nuki", "casavi", "unifi_access", "remotelock")
# A kind whose own step is a menu: the option to take there (the client-credentials grant: signing in
# through a browser is not scripted).
MENU_CHOICES: Final[dict[str, str]] = {"remotelock": "remotelock_client"}

USERNAME: Final = "dev"
USER_DISPLAY_NAME: Final = "Dev"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """One instance: Home Assistant in ``config_dir`` on ``ha_port``, the simulator on ``sim_port``.

    The defaults are ``scripts/develop``'s: ``config/`` on 8123, the simulator on 8765 (UniFi Access 12445).
    """

    config_dir: Path = DEVELOP_CONFIG_DIR
    ha_port: int = 8123
    sim_port: int = 8765
    unifi_port: int = 12445
    sim_properties: int = 3
    # Extra simulator arguments (e.g. ``["--latency", "0.2"]``).
    sim_args: tuple[str, ...] = ()
    start_simulator: bool = True
    # The accounts to add through the config flow (none: Home Assistant and onboarding only).
    accounts: tuple[str, ...] = ACCOUNT_KINDS
    # Seconds to wait for Home Assistant to answer and finish starting, and for the first Kasify state.
    start_timeout: float = 300
    entity_timeout: float = 60
    # The prefix of every message ("[develop] ...").
    label: str = "develop"
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def ha_url(self) -> str:
        """The address a browser uses (the OAuth client id is derived from it, as the UI's is)."""
        return f"http://localhost:{self.ha_port}"

    @property
    def ha_api(self) -> str:
        """Where requests go: the IPv4 loopback."""
        return f"http://127.0.0.1:{self.ha_port}"

    @property
    def client_id(self) -> str:
        """The OAuth client id of the scripted logins (the frontend's)."""
        return f"{self.ha_url}/"

    @property
    def redirect_uri(self) -> str:
        """The OAuth redirect of the scripted logins (the frontend's)."""
        return f"{self.ha_url}/?auth_callback=1"

    @property
    def sim_url(self) -> str:
        """The simulator's base URL."""
        return f"http://{SIM_HOST}:{self.sim_port}"

    @property
    def kasify_url(self) -> str:
        """The simulated Kasify API."""
        return f"{self.sim_url}/kasify/v1"

    @property
    def credentials_file(self) -> Path:
        """The generated owner login (user name and password, JSON, mode 0600)."""
        return self.config_dir / ".develop-credentials"

    @property
    def ha_log(self) -> Path:
        """Home Assistant's log file."""
        return self.config_dir / "home-assistant.log"

    @property
    def ha_console_log(self) -> Path:
        """Home Assistant's stdout and stderr."""
        return self.config_dir / "hass-console.log"

    @property
    def sim_log(self) -> Path:
        """The simulator's stdout and stderr."""
        return self.config_dir / "simulator.log"

    def say(self, message: str) -> None:
        """Print ``[label] message``."""
        print(f"[{self.label}] {message}", flush=True)

    def account_answers(self, kind: str) -> dict[str, str]:
        """The answers to the config-flow form of an account kind, against this instance's simulator."""
        sim = self.sim_url
        answers: dict[str, dict[str, str]] = {
            "kasify": {"url": self.kasify_url, "api_token": KASIFY_TOKEN},
            "nuki": {"url": f"{sim}/nuki", "api_token": NUKI_TOKEN},
            "casavi": {"url": f"{sim}/casavi", "key": CASAVI_KEY, "secret": CASAVI_SECRET},
            "unifi_access": {
                "host": SIM_HOST,
                "port": str(self.unifi_port),
                "api_token": UNIFI_TOKEN,
                "fingerprint": UNIFI_FINGERPRINT,
            },
            "remotelock": {
                "client_id": REMOTELOCK_CLIENT_ID,
                "client_secret": REMOTELOCK_CLIENT_SECRET,
                "url": f"{sim}/remotelock/api",
                "oauth_url": f"{sim}/remotelock/connect",
            },
        }
        return answers[kind]
