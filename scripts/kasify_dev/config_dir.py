"""Preparing Home Assistant's config folder: configuration, the integration's link, the owner's login."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
from pathlib import Path
import secrets
import shutil
import subprocess
import sys

from .processes import REPO_ROOT, BootstrapError, rel
from .settings import CONFIGURATION_TEMPLATE, DOMAIN, USERNAME, Settings


def prepare_config_dir(settings: Settings) -> dict[str, str]:
    """Prepare the config folder and return the stored (or newly generated) owner credentials.

    A folder without ``configuration.yaml`` gets a copy of ``config/configuration.yaml`` (its port and
    internal URL come from the environment, see :func:`hass_environment`).
    """
    config_dir = settings.config_dir
    config_dir.mkdir(parents=True, exist_ok=True)
    configuration = config_dir / "configuration.yaml"
    if not configuration.is_file():
        if config_dir.resolve() == CONFIGURATION_TEMPLATE.parent.resolve():
            raise BootstrapError(f"{rel(configuration)} is missing")
        shutil.copyfile(CONFIGURATION_TEMPLATE, configuration)

    _link_integration(config_dir)
    # Files that configuration.yaml !includes (the UI editors write to them).
    for name, initial in (("automations.yaml", "[]\n"), ("scripts.yaml", "")):
        path = config_dir / name
        if not path.exists():
            path.write_text(initial, encoding="utf-8")
    return _credentials(settings.credentials_file)


def _link_integration(config_dir: Path) -> None:
    """``custom_components/kasify`` in the config folder: a symlink to this checkout's integration."""
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / DOMAIN
    source = REPO_ROOT / "custom_components" / DOMAIN
    # Relative inside the repository (config/ keeps working when the checkout moves), absolute elsewhere.
    inside = config_dir.resolve().is_relative_to(REPO_ROOT)
    target = Path(os.path.relpath(source, custom.resolve())) if inside else source
    if link.is_symlink():
        if link.readlink() != target:
            link.unlink()
    elif link.exists():
        raise BootstrapError(
            f"{rel(link)} exists and is not a symlink; remove it "
            f"(scripts/develop links it to custom_components/{DOMAIN})"
        )
    if not link.is_symlink():
        link.symlink_to(target, target_is_directory=True)


def _credentials(path: Path) -> dict[str, str]:
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(stored, dict) or not isinstance(stored.get("password"), str):
                raise TypeError("no password")  # noqa: TRY301
        except (ValueError, TypeError) as err:
            raise BootstrapError(
                f"{rel(path)} is unreadable ({err}); delete it together with "
                f"{rel(path.parent / '.storage')} to start from a fresh instance"
            ) from err
        return {"username": str(stored.get("username", USERNAME)), "password": stored["password"]}

    creds = {"username": USERNAME, "password": secrets.token_urlsafe(15)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(creds, handle)
        handle.write("\n")
    return creds


def ensure_frontend_package(settings: Settings) -> None:
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
        settings.say(f"installing {requirement} (frontend for Home Assistant)")
        result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", requirement], check=False)
        if result.returncode != 0:
            raise BootstrapError(f"pip install {requirement} failed")
