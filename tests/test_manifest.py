"""The manifest declares every package the integration imports, so a clean Home Assistant installs them.

Home Assistant installs a custom integration's ``requirements`` and nothing else: a package that only the test
venv has (``icalendar`` came from ``requirements_test.txt`` alone once) breaks every fresh install.
"""

from __future__ import annotations

import ast
from importlib import metadata
import json
from pathlib import Path
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from custom_components.kasify import const

PACKAGE = Path(const.__file__).parent
MANIFEST = json.loads((PACKAGE / "manifest.json").read_text(encoding="utf-8"))
# Home Assistant 2026.11 and newer make ``import voluptuous`` resolve to its own validation engine (probatio),
# before any integration loads; older releases depend on voluptuous itself.
PROVIDED_BY_HOME_ASSISTANT = {"homeassistant", "voluptuous"}


def _imported_top_level_modules() -> dict[str, Path]:
    """Top-level module → first file importing it, for every absolute import of the integration."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.partition(".")[0], path)
    return found


def _third_party() -> dict[str, Path]:
    return {
        module: path
        for module, path in _imported_top_level_modules().items()
        if module not in sys.stdlib_module_names and module != "__future__"
    }


def _distributions_of_home_assistant() -> set[str]:
    requires = metadata.requires("homeassistant") or []
    return {canonicalize_name(Requirement(line).name) for line in requires if "extra ==" not in line}


def _declared() -> dict[str, Requirement]:
    return {canonicalize_name(Requirement(line).name): Requirement(line) for line in MANIFEST["requirements"]}


def test_every_third_party_import_is_declared_or_comes_with_home_assistant() -> None:
    by_module = metadata.packages_distributions()
    core = _distributions_of_home_assistant()
    declared = _declared()
    undeclared = []
    for module, path in _third_party().items():
        if module in PROVIDED_BY_HOME_ASSISTANT:
            continue
        distributions = {canonicalize_name(name) for name in by_module.get(module, [])}
        assert distributions, f"{module} (imported in {path.name}) is not installed"
        if not distributions & (core | set(declared)):
            undeclared.append(f"{module} ({', '.join(sorted(distributions))}, imported in {path.name})")
    assert not undeclared, f"imported but not in the manifest's requirements: {undeclared}"


def test_requirements_are_ranges_that_the_tested_versions_satisfy() -> None:
    """``==`` would make Home Assistant reinstall over its own copy; the range must admit what is tested."""
    for name, requirement in _declared().items():
        assert requirement.specifier, f"{name} has no version range"
        assert all(spec.operator not in ("==", "===") for spec in requirement.specifier), requirement
        assert any(spec.operator == "<" for spec in requirement.specifier), (
            f"{requirement} has no upper bound"
        )
        installed = metadata.version(name)
        assert requirement.specifier.contains(installed, prereleases=True), (requirement, installed)


def test_every_declared_requirement_is_imported() -> None:
    """Nothing is installed for a user that the integration does not use."""
    by_module = metadata.packages_distributions()
    imported = {canonicalize_name(dist) for module in _third_party() for dist in by_module.get(module, [])}
    assert set(_declared()) <= imported
