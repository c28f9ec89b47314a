"""Apps import only the apps below them: the arrows of docs/architecture.md hold in the code.

Every ``.py`` of every project app is parsed with ``ast`` (nothing is imported), and every
reference to another app is checked against :data:`ALLOWED`:

* ``import x`` / ``from x import y`` anywhere: at the top, inside functions, under
  ``if TYPE_CHECKING:``;
* string imports: ``importlib.import_module("x…")``, ``import_string("x…")``;
* models named by string: ``apps.get_model("x", "Model")`` / ``get_model("x.Model")`` and
  ``ForeignKey("x.Model")`` (also ``OneToOneField``, ``ManyToManyField``).

Exempt: tests (``*/tests/*``, ``conftest.py``), migrations, and the test-support modules in
:data:`EXEMPT_FILES`. A page of a lower app that shows a higher app's data does not import
it: the higher app fills a place the lower one declares (``core/extensions.py``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

#: app → the apps it may import (``core`` is always below everyone but itself imports no app).
#: ``config`` wires everything and may import anything (``None``). A new app adds its line
#: here and in docs/architecture.md ("Allowed imports between apps").
ALLOWED: Mapping[str, frozenset[str] | None] = {
    "core": frozenset(),
    "sites": frozenset({"core"}),
    "accounts": frozenset({"sites", "core"}),
    "people": frozenset({"sites", "core"}),
    "inventory": frozenset({"people", "sites", "core"}),
    "custody": frozenset({"inventory", "people", "sites", "core"}),
    "reports": frozenset({"custody", "inventory", "people", "sites", "accounts", "core"}),
    "imports": frozenset({"custody", "inventory", "people", "sites", "accounts", "core"}),
    "demo": frozenset({"custody", "inventory", "people", "sites", "accounts", "core"}),
    "config": None,
}

#: Test-support modules (fixtures and factories build rows of every app); not imported by
#: application code.
EXEMPT_FILES = frozenset({"core/testing.py", "core/scoping_matrix.py", "demo/testing.py"})

_STRING_IMPORTERS = {"import_module", "import_string"}
_RELATION_FIELDS = {"ForeignKey", "OneToOneField", "ManyToManyField"}


@dataclass(frozen=True)
class Violation:
    """One forbidden arrow: ``path:line: app → target (what)``."""

    path: str
    line: int
    app: str
    target: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.app} → {self.target} ({self.what})"


def _called_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _str_arg(node: ast.Call, index: int = 0) -> str | None:
    if len(node.args) > index and isinstance(node.args[index], ast.Constant):
        value = node.args[index].value
        return value if isinstance(value, str) else None
    return None


def references(tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """``(line, top-level module or app label, what)`` for every reference in ``tree`` that
    could name another app (imports, string imports, models named by string)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0], f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0], f"from {node.module} import …"
        elif isinstance(node, ast.Call):
            name, first = _called_name(node), _str_arg(node)
            if first is None:
                continue
            if name in _STRING_IMPORTERS or name == "get_model" or (name in _RELATION_FIELDS and "." in first):
                yield node.lineno, first.split(".")[0], f"{name}({first!r})"


def check_source(source: str, *, app: str, path: str, allowed: Mapping[str, frozenset[str] | None]) -> list[Violation]:
    """The forbidden arrows in ``source`` (a module of ``app``). Only names of project apps
    (the keys of ``allowed``) count; the standard library and packages are not checked."""
    may = allowed[app]
    if may is None:
        return []
    return [
        Violation(path, line, app, target, what)
        for line, target, what in references(ast.parse(source, filename=path))
        if target in allowed and target != app and target not in may
    ]


def _exempt(relative: Path) -> bool:
    parts = relative.parts
    return (
        "tests" in parts
        or "migrations" in parts
        or relative.name == "conftest.py"
        or relative.as_posix() in EXEMPT_FILES
    )


def project_apps() -> list[str]:
    """The project's own apps (installed apps whose package is in the repository) and ``config``."""
    base = Path(settings.BASE_DIR)
    names = {entry.split(".")[0] for entry in settings.INSTALLED_APPS}
    return sorted(name for name in names | {"config"} if (base / name / "__init__.py").exists())


def app_modules(app: str) -> Iterator[Path]:
    """The checked ``.py`` files of ``app`` (exempt ones left out)."""
    base = Path(settings.BASE_DIR)
    for path in sorted((base / app).rglob("*.py")):
        if not _exempt(path.relative_to(base)):
            yield path


def test_every_project_app_has_its_arrows():
    assert set(project_apps()) == set(ALLOWED), "add the new app to ALLOWED and to docs/architecture.md"


def test_apps_import_only_the_apps_below_them():
    base = Path(settings.BASE_DIR)
    violations: list[Violation] = []
    checked = 0
    for app in project_apps():
        for path in app_modules(app):
            relative = path.relative_to(base).as_posix()
            violations += check_source(path.read_text(), app=app, path=relative, allowed=ALLOWED)
            checked += 1
    assert checked > 50  # the walk found the code (a wrong base path would pass vacuously)
    assert not violations, "imports against docs/architecture.md's arrows:\n" + "\n".join(map(str, violations))


SYNTHETIC = """
from typing import TYPE_CHECKING
import importlib
from django.apps import apps
from django.db import models
from core.scoping import VIEW
from people.models import Person
import inventory.models

if TYPE_CHECKING:
    from custody.models import Assignment

def late():
    from reports.selectors import device_total
    importlib.import_module("custody.selectors")
    return apps.get_model("custody", "Assignment")

class Thing(models.Model):
    device = models.ForeignKey("inventory.Device", on_delete=models.CASCADE)
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE)
"""


def test_the_checker_names_each_forbidden_arrow():
    """Fed a module of ``people`` that reaches up in every way the checker knows, it names
    each forbidden arrow with its line, and lets the allowed ones (core, sites) pass."""
    found = check_source(SYNTHETIC, app="people", path="people/x.py", allowed=ALLOWED)
    assert sorted((v.line, v.target) for v in found) == [
        (8, "inventory"),
        (11, "custody"),
        (14, "reports"),
        (15, "custody"),
        (16, "custody"),
        (19, "inventory"),
    ]
    assert str(found[0]).startswith("people/x.py:")
    assert "people → " in str(found[0])
    assert check_source(SYNTHETIC, app="config", path="config/x.py", allowed=ALLOWED) == []
    assert check_source(SYNTHETIC, app="demo", path="demo/x.py", allowed=ALLOWED) == [
        Violation("demo/x.py", 14, "demo", "reports", "from reports.selectors import …")
    ]


def test_exempt_files_are_the_test_support_modules():
    assert _exempt(Path("core/testing.py")) and _exempt(Path("core/scoping_matrix.py"))
    assert _exempt(Path("demo/testing.py")) and _exempt(Path("people/tests/test_x.py"))
    assert _exempt(Path("custody/migrations/0001_initial.py")) and _exempt(Path("conftest.py"))
    assert not _exempt(Path("core/views.py")) and not _exempt(Path("people/selectors.py"))
