"""Screenshots of the browser tests: ``artifacts/e2e/<name>.png`` (git-ignored), listed after the run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kasify_dev import REPO_ROOT

if TYPE_CHECKING:
    from playwright.async_api import Page

ARTIFACTS = REPO_ROOT / "artifacts" / "e2e"
SCREENSHOTS: list[Path] = []
# What a browser test had to work around, printed at the end of the run.
WARNINGS: list[str] = []


def clear_screenshots() -> None:
    """Remove the screenshots of an earlier run."""
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()


async def save_screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot of ``page`` in the artefacts folder."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=path, full_page=True)
    SCREENSHOTS.append(path)
    return path
