"""Check the integration against the source of the newest Home Assistant release, without running it.

The newest releases need a newer Python than the machines that run the test suite may have, so the suite
cannot import them. What can go wrong when they load the integration is checked on their source instead:

1. **imports**: every ``homeassistant`` import of the integration names a module and a name that exist in
   the release. An import in an ``except ImportError:`` branch is a fallback for older releases and may be
   missing; the import it stands in for may not.
2. **deprecated names**: no imported name is marked deprecated there (``@deprecated_function``,
   ``@deprecated_class``, ``DeprecatedConstant`` ...).
3. **attribute collisions**: no class of the integration that derives from a Home Assistant class sets or
   defines a private name (``_x``) that the Home Assistant class already uses. A subclass attribute
   named like a private one of its base silently replaces it (``DataUpdateCoordinator._retry_after`` since
   2025.12 broke every coordinator that had its own). Methods that Home Assistant documents as hooks to
   override are listed in :data:`OVERRIDE_HOOKS`.
4. **banned APIs**: calls that Home Assistant announced it removes (:data:`BANNED`), anywhere but in the
   one module that picks between old and new APIs (``compat.py``).

Usage::

    python scripts/check_newest_ha.py                 # downloads the newest release's wheel (pip cache)
    python scripts/check_newest_ha.py --source DIR    # DIR holds an unpacked homeassistant/ package

Exit status 0 when every check passes, 1 otherwise. Only the standard library is needed (pip for the
download).
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
import os
from pathlib import Path
import re
import subprocess
import sys
import tempfile
import zipfile

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "custom_components" / "kasify"
PACKAGE_NAME = "custom_components.kasify"
CACHE_DIR = REPO_ROOT / ".cache" / "newest-home-assistant"
# The module allowed to name old APIs, each use guarded by a check for the new one.
COMPAT_MODULE = "compat.py"

# Private methods Home Assistant designs to be overridden by subclasses: (HA class, method) → why.
OVERRIDE_HOOKS: dict[tuple[str, str], str] = {
    ("DataUpdateCoordinator", "_async_update_data"): "the documented place to fetch data",
    ("DataUpdateCoordinator", "_async_setup"): "the documented one-time setup hook",
    ("DataUpdateCoordinator", "_async_refresh_finished"): "documented: 'to be overridden by subclasses'",
    ("BaseCoordinatorEntity", "_handle_coordinator_update"): "the documented coordinator callback",
    ("CoordinatorEntity", "_handle_coordinator_update"): "the documented coordinator callback",
    ("Entity", "_async_write_ha_state"): "never overridden here; listed so a future override is a choice",
    ("LocalOAuth2Implementation", "_async_refresh_token"): "the documented token refresh hook",
    ("AbstractOAuth2Implementation", "_async_refresh_token"): "the documented token refresh hook",
    ("EventEntity", "_trigger_event"): "called, not overridden: the entity API to fire an event",
}


@dataclass(frozen=True, slots=True)
class Banned:
    """An API Home Assistant announced it removes, and what to use instead."""

    kind: str  # "call" (method/function name called), "keyword", "key" (a DeviceInfo key), "attribute"
    name: str
    removed_in: str
    instead: str


BANNED: tuple[Banned, ...] = (
    Banned("call", "async_get_device", "2027.8", "compat.device_by_identifier (per config entry)"),
    Banned("keyword", "via_device", "2027.8", "compat.set_via_device (via_device_id)"),
    Banned("key", "via_device", "2027.8", "compat.set_via_device (via_device_id)"),
    Banned("keyword", "remove_config_entry_id", "2027.8", "compat.remove_device"),
    Banned(
        "attribute", "config_entries", "2027.8", "compat.device_config_entry_ids (device.config_entry_id)"
    ),
    Banned("call", "async_extract_referenced_entity_ids", "2026.8", "compat.referenced_entity_ids"),
    Banned("name", "TargetSelectorData", "2026.12", "helpers.target.TargetSelection"),
    Banned("call", "async_generate_entity_id", "2027.2", "entity_registry.async_get_available_entity_id"),
    Banned("name", "OptionsFlowWithConfigEntry", "2025.12", "OptionsFlow with self.config_entry"),
)
_VALUES_OF_DEVICES = Banned("call", "devices.values", "2027.9", "dr.async_entries_for_config_entry")

_PEP758_EXCEPT = re.compile(
    r"^(?P<indent>[ \t]*)except(?P<star>\*?)[ \t]+(?P<types>[^():#\n]+?,[^():#\n]+?)[ \t]*:", re.MULTILINE
)
_DEPRECATION_MARKERS = ("deprecated_function", "deprecated_class", "deprecated_hass_argument", "deprecated")


def parse_source(text: str, filename: str) -> ast.Module:
    """Parse Python source of a newer Python than this one where the difference is only syntax we can undo.

    Python 3.14 allows ``except A, B:`` (PEP 758), which older parsers refuse; it means ``except (A, B):``.
    """
    try:
        return ast.parse(text, filename)
    except SyntaxError:
        fixed = _PEP758_EXCEPT.sub(lambda m: f"{m['indent']}except{m['star']} ({m['types']}):", text)
        return ast.parse(fixed, filename)


@dataclass(slots=True)
class Problem:
    """One finding, printed as ``file:line: check: message``."""

    path: str
    line: int
    check: str
    message: str

    def __str__(self) -> str:
        """One line a reader can jump to."""
        return f"{self.path}:{self.line}: {self.check}: {self.message}"


# -- the Home Assistant source -----------------------------------------------------------------------------


@dataclass(slots=True)
class HaModule:
    """What one module of the release defines at module level."""

    path: Path
    tree: ast.Module
    names: set[str]
    imports: dict[str, tuple[str, str | None]]  # local name → (module, name or None for a module import)
    classes: dict[str, ast.ClassDef]
    deprecated: set[str]
    has_getattr: bool


class HaSource:
    """The ``homeassistant`` package of one release, read as source (never imported)."""

    def __init__(self, root: Path) -> None:
        """``root`` holds the ``homeassistant/`` folder."""
        self.root = root
        self._modules: dict[str, HaModule | None] = {}

    def module_path(self, module: str) -> Path | None:
        """The file of ``module`` (a package's ``__init__.py``), if the release has it."""
        base = self.root.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def is_package(self, module: str) -> bool:
        """Whether ``module`` is a package (a folder), so its submodules are importable names."""
        return (self.root.joinpath(*module.split(".")) / "__init__.py").is_file()

    def module(self, module: str) -> HaModule | None:
        """The parsed module, or None when the release has no such module."""
        if module not in self._modules:
            path = self.module_path(module)
            self._modules[module] = (
                None if path is None else _read_module(path, module, self.is_package(module))
            )
        return self._modules[module]

    def has_name(self, module: str, name: str) -> bool:
        """Whether ``from module import name`` works in the release."""
        parsed = self.module(module)
        if parsed is None:
            return False
        if name in parsed.names:
            return True
        return self.is_package(module) and self.module_path(f"{module}.{name}") is not None

    def resolve_class(self, module: str, name: str, depth: int = 0) -> tuple[str, ast.ClassDef] | None:
        """Follow re-exports to the module that defines class ``name``."""
        parsed = self.module(module)
        if parsed is None or depth > 10:
            return None
        if name in parsed.classes:
            return module, parsed.classes[name]
        if name in parsed.imports:
            source, original = parsed.imports[name]
            if original is not None and source.startswith("homeassistant"):
                return self.resolve_class(source, original, depth + 1)
        return None

    def private_names(self, module: str, cls: ast.ClassDef) -> dict[str, tuple[str, str]]:
        """Every private name the class and its Home Assistant bases use: name → (class, "method"/"data")."""
        found: dict[str, tuple[str, str]] = {}
        seen: set[tuple[str, str]] = set()
        pending: list[tuple[str, ast.ClassDef]] = [(module, cls)]
        while pending:
            mod, node = pending.pop()
            if (mod, node.name) in seen:
                continue
            seen.add((mod, node.name))
            for name, kind in class_members(node).items():
                if _is_private(name):
                    found.setdefault(name, (node.name, kind))
            parsed = self.module(mod)
            for base in node.bases:
                base_name = _base_name(base)
                if base_name is None or parsed is None:
                    continue
                resolved = self._resolve_base(mod, parsed, base_name)
                if resolved is not None:
                    pending.append(resolved)
        return found

    def _resolve_base(self, module: str, parsed: HaModule, dotted: str) -> tuple[str, ast.ClassDef] | None:
        head, _, tail = dotted.partition(".")
        if not tail:
            return self.resolve_class(module, head)
        if head in parsed.imports:  # module.Class
            source, original = parsed.imports[head]
            target = source if original is None else f"{source}.{original}"
            return self.resolve_class(target, tail)
        return None


def _read_module(path: Path, module: str, is_package: bool) -> HaModule:
    tree = parse_source(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    imports: dict[str, tuple[str, str | None]] = {}
    classes: dict[str, ast.ClassDef] = {}
    deprecated: set[str] = set()
    has_getattr = False
    package = module if is_package else module.rpartition(".")[0]
    for node in _module_level(tree.body):
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
            classes[node.name] = node
            if _decorated_deprecated(node):
                deprecated.add(node.name)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
            has_getattr |= node.name == "__getattr__"
            if _decorated_deprecated(node):
                deprecated.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            for target in targets:
                for name in _target_names(target):
                    names.add(name)
                    if value is not None and _is_deprecation_call(value):
                        deprecated.add(name)
        elif isinstance(node, ast.TypeAlias):
            names.add(node.name.id)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.partition(".")[0]
                names.add(local)
                imports[local] = (alias.name if alias.asname else local, None)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(package, node.module, node.level)
            for alias in node.names:
                if alias.name == "*":
                    continue
                local = alias.asname or alias.name
                names.add(local)
                imports[local] = (source, alias.name)
    return HaModule(path, tree, names, imports, classes, deprecated, has_getattr)


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those inside ``if``/``try``/``with`` blocks at module level."""
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.Try | ast.TryStar | ast.With):
            nested: list[ast.stmt] = list(node.body)
            if isinstance(node, ast.If):
                nested += node.orelse
            if isinstance(node, ast.Try | ast.TryStar):
                nested += node.orelse + node.finalbody
                for handler in node.handlers:
                    nested += handler.body
            yield from _module_level(nested)


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)


def _decorated_deprecated(node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in node.decorator_list:
        func = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in _DEPRECATION_MARKERS:
            return True
    return False


def _is_deprecation_call(value: ast.expr) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name.startswith(("Deprecated", "deprecated"))


def _absolute(package: str, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*base, module] if module else base)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _base_name(base: ast.expr) -> str | None:
    """``Name``, ``module.Name`` or ``Name[...]`` → the dotted name; anything else → None."""
    if isinstance(base, ast.Subscript):
        base = base.value
    if isinstance(base, ast.Name):
        return base.id
    if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name):
        return f"{base.value.id}.{base.attr}"
    return None


def class_members(cls: ast.ClassDef) -> dict[str, str]:
    """Names a class defines: methods ("method") and data set in its body or on ``self`` ("data")."""
    members: dict[str, str] = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            members.setdefault(node.name, "method")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in _target_names(target):
                    members.setdefault(name, "data")
                    if name == "__slots__" and node.value is not None:
                        for element in getattr(node.value, "elts", []):
                            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                                members.setdefault(element.value, "data")
    for method in cls.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(method):
            assigned: list[ast.expr] = []
            if isinstance(inner, ast.Assign):
                assigned = list(inner.targets)
            elif isinstance(inner, ast.AnnAssign | ast.AugAssign):
                assigned = [inner.target]
            for target in assigned:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    members.setdefault(target.attr, "data")
    return members


# -- the integration ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class OurImport:
    """One ``homeassistant`` import of the integration."""

    path: Path
    line: int
    module: str
    name: str | None  # None: ``import module``
    fallback: bool  # in an ``except ImportError`` branch


@dataclass(slots=True)
class OurModule:
    """One module of the integration."""

    path: Path
    dotted: str
    tree: ast.Module
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # local → (module, name)
    ha_imports: list[OurImport] = field(default_factory=list)


def read_package(package_dir: Path, package_name: str) -> dict[str, OurModule]:
    """Every module of the integration, with its imports."""
    modules: dict[str, OurModule] = {}
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir).with_suffix("")
        parts = [part for part in relative.parts if part != "__init__"]
        dotted = ".".join([package_name, *parts])
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        module = OurModule(path, dotted, tree)
        is_package = path.name == "__init__.py"
        package = dotted if is_package else dotted.rpartition(".")[0]
        fallback_nodes = _fallback_imports(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports[alias.asname or alias.name.partition(".")[0]] = (
                        alias.name if alias.asname else alias.name.partition(".")[0],
                        None,
                    )
                    if alias.name.startswith("homeassistant"):
                        module.ha_imports.append(
                            OurImport(path, node.lineno, alias.name, None, id(node) in fallback_nodes)
                        )
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(package, node.module, node.level)
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = (source, alias.name)
                    if source.startswith("homeassistant"):
                        module.ha_imports.append(
                            OurImport(path, node.lineno, source, alias.name, id(node) in fallback_nodes)
                        )
        modules[dotted] = module
    return modules


def _fallback_imports(tree: ast.Module) -> set[int]:
    """Ids of import statements inside ``except ImportError`` / ``except (ImportError, ...)`` handlers."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        for handler in node.handlers:
            caught = handler.type
            if caught is None:
                continue
            names = {
                getattr(element, "id", None)
                for element in (caught.elts if isinstance(caught, ast.Tuple) else [caught])
            }
            if names & {"ImportError", "ModuleNotFoundError"}:
                found |= {id(inner) for stmt in handler.body for inner in ast.walk(stmt)}
    return found


# -- the checks ---------------------------------------------------------------------------------------------


def check_imports(ours: dict[str, OurModule], ha: HaSource) -> list[Problem]:
    """Checks 1 and 2: every import exists in the release and is not deprecated there."""
    problems: list[Problem] = []
    for module in ours.values():
        for imp in module.ha_imports:
            where = _rel(imp.path)
            if imp.fallback:
                continue
            if imp.name is None:
                if ha.module(imp.module) is None:
                    problems.append(Problem(where, imp.line, "import", f"no module {imp.module}"))
                continue
            if ha.module(imp.module) is None:
                problems.append(Problem(where, imp.line, "import", f"no module {imp.module}"))
            elif not ha.has_name(imp.module, imp.name):
                parsed = ha.module(imp.module)
                hint = (
                    " (only through the module's __getattr__: a deprecated alias)"
                    if (parsed is not None and parsed.has_getattr)
                    else ""
                )
                problems.append(Problem(where, imp.line, "import", f"{imp.module} has no {imp.name}{hint}"))
            else:
                parsed = ha.module(imp.module)
                if parsed is not None and imp.name in parsed.deprecated:
                    problems.append(
                        Problem(where, imp.line, "deprecated", f"{imp.module}.{imp.name} is deprecated")
                    )
    return problems


def check_collisions(ours: dict[str, OurModule], ha: HaSource) -> list[Problem]:
    """Check 3: no private name of a Home Assistant base class is reused by a subclass of ours."""
    problems: list[Problem] = []
    for module in ours.values():
        for cls in (node for node in ast.walk(module.tree) if isinstance(node, ast.ClassDef)):
            ha_private: dict[str, tuple[str, str]] = {}
            for ha_module, ha_class in _ha_bases(cls, module, ours, ha, set()):
                for name, origin in ha.private_names(ha_module, ha_class).items():
                    ha_private.setdefault(name, origin)
            if not ha_private:
                continue
            for name, kind in class_members(cls).items():
                if name not in ha_private or name.startswith("_attr_"):
                    continue
                owner, ha_kind = ha_private[name]
                if kind == "method" and ha_kind == "method" and (owner, name) in OVERRIDE_HOOKS:
                    continue
                line = _member_line(cls, name)
                problems.append(
                    Problem(
                        _rel(module.path),
                        line,
                        "collision",
                        f"{cls.name}.{name} ({kind}) reuses the private {ha_kind} {owner}.{name} of Home "
                        "Assistant; rename it (or list a documented hook in OVERRIDE_HOOKS)",
                    )
                )
    return problems


def _ha_bases(
    cls: ast.ClassDef,
    module: OurModule,
    ours: dict[str, OurModule],
    ha: HaSource,
    seen: set[tuple[str, str]],
) -> Iterator[tuple[str, ast.ClassDef]]:
    """The Home Assistant classes ``cls`` derives from, directly or through classes of ours."""
    if (module.dotted, cls.name) in seen:
        return
    seen.add((module.dotted, cls.name))
    for base in cls.bases:
        dotted = _base_name(base)
        if dotted is None:
            continue
        head, _, tail = dotted.partition(".")
        source: str | None
        name: str
        if head in module.imports:
            imported_module, imported_name = module.imports[head]
            if tail:
                source = imported_module if imported_name is None else f"{imported_module}.{imported_name}"
                name = tail
            else:
                source, name = imported_module, imported_name or head
        elif not tail:
            source, name = module.dotted, head
        else:
            continue
        if source.startswith("homeassistant"):
            resolved = ha.resolve_class(source, name)
            if resolved is not None:
                yield resolved
        elif source in ours:
            ours_module = ours[source]
            local = next(
                (
                    node
                    for node in ours_module.tree.body
                    if isinstance(node, ast.ClassDef) and node.name == name
                ),
                None,
            )
            if local is None and name in ours_module.imports:  # re-exported
                re_module, re_name = ours_module.imports[name]
                if re_module in ours and re_name is not None:
                    ours_module = ours[re_module]
                    local = next(
                        (
                            node
                            for node in ours_module.tree.body
                            if isinstance(node, ast.ClassDef) and node.name == re_name
                        ),
                        None,
                    )
            if local is not None:
                yield from _ha_bases(local, ours_module, ours, ha, seen)


def _member_line(cls: ast.ClassDef, name: str) -> int:
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node.lineno
        if isinstance(node, ast.Attribute) and node.attr == name:
            return node.lineno
        if isinstance(node, ast.Name) and node.id == name:
            return node.lineno
    return cls.lineno


def check_banned(ours: dict[str, OurModule], compat_module: str = COMPAT_MODULE) -> list[Problem]:
    """Check 4: no announced-for-removal API outside the compatibility module."""
    problems: list[Problem] = []
    for module in ours.values():
        if module.path.name == compat_module:
            continue
        for node, banned in _banned_uses(module.tree):
            problems.append(
                Problem(
                    _rel(module.path),
                    getattr(node, "lineno", 0),
                    "banned",
                    f"{banned.name} is removed in Home Assistant {banned.removed_in}; use {banned.instead}",
                )
            )
    return problems


def _banned_uses(tree: ast.Module) -> Iterator[tuple[ast.AST, Banned]]:
    by_kind: dict[str, dict[str, Banned]] = {}
    for banned in BANNED:
        by_kind.setdefault(banned.kind, {})[banned.name] = banned
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in by_kind.get("call", {}):
                yield node, by_kind["call"][called]
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "values"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "devices"
            ):
                yield node, _VALUES_OF_DEVICES
            for keyword in node.keywords:
                if keyword.arg in by_kind.get("keyword", {}):
                    yield keyword, by_kind["keyword"][keyword.arg]
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            if node.slice.value in by_kind.get("key", {}):
                yield node, by_kind["key"][str(node.slice.value)]
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant) and key.value in by_kind.get("key", {}):
                    yield key, by_kind["key"][str(key.value)]
        elif isinstance(node, ast.Attribute):
            if node.attr in by_kind.get("attribute", {}) and not _is_hass(node.value):
                yield node, by_kind["attribute"][node.attr]
            if node.attr in by_kind.get("name", {}):
                yield node, by_kind["name"][node.attr]
        elif isinstance(node, ast.Name) and node.id in by_kind.get("name", {}):
            yield node, by_kind["name"][node.id]
        elif isinstance(node, ast.alias) and node.name in by_kind.get("name", {}):
            yield node, by_kind["name"][node.name]


def _is_hass(value: ast.expr) -> bool:
    """``hass`` or ``<x>.hass``: ``hass.config_entries`` is the config entries manager, not a device's."""
    return (isinstance(value, ast.Name) and value.id in _HASS_NAMES) or (
        isinstance(value, ast.Attribute) and value.attr in _HASS_NAMES
    )


_HASS_NAMES = frozenset({"hass", "_hass"})


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def run_checks(package_dir: Path, package_name: str, ha_root: Path) -> list[Problem]:
    """Every check of this script, against the release unpacked at ``ha_root``."""
    ours = read_package(package_dir, package_name)
    ha = HaSource(ha_root)
    return check_imports(ours, ha) + check_collisions(ours, ha) + check_banned(ours)


# -- getting the release ------------------------------------------------------------------------------------


def download_newest(cache: Path) -> tuple[str, Path]:
    """Download (pip cache) and unpack the newest ``homeassistant`` wheel; returns (version, source root)."""
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "homeassistant", "--no-deps", "--only-binary=:all:",
                "--ignore-requires-python", "--disable-pip-version-check", "-q", "-d", tmp,
            ],
            check=True,
        )  # fmt: skip
        wheel = next(Path(tmp).glob("homeassistant-*.whl"))
        version = wheel.name.split("-")[1]
        target = cache / version
        if not (target / "homeassistant" / "const.py").is_file():
            with zipfile.ZipFile(wheel) as archive:
                members = [name for name in archive.namelist() if name.startswith("homeassistant/")]
                archive.extractall(target, members)
    return version, target


def _unpacked_version(root: Path) -> str:
    const = (root / "homeassistant" / "const.py").read_text(encoding="utf-8")
    values = dict(
        re.findall(r'^(MAJOR_VERSION|MINOR_VERSION|PATCH_VERSION)(?:: \w+)? = "?([\w.]+)"?', const, re.M)
    )
    return ".".join(values.get(key, "?") for key in ("MAJOR_VERSION", "MINOR_VERSION", "PATCH_VERSION"))


def main(argv: Iterable[str] | None = None) -> int:
    """Run the checks; print the findings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, help="a folder holding an unpacked homeassistant/ package")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.source is not None:
        root: Path = args.source
        version = _unpacked_version(root)
    else:
        version, root = download_newest(Path(os.environ.get("KASIFY_HA_CACHE", CACHE_DIR)))
    problems = run_checks(PACKAGE, PACKAGE_NAME, root)
    for problem in problems:
        print(problem)
    print(
        f"Home Assistant {version}: imports, deprecated names, attribute collisions, banned APIs: "
        + (f"{len(problems)} problem(s)" if problems else "all clear")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
