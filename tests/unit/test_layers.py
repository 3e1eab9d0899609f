"""The import-linter contracts of .importlinter (``make test-layers``): the real tree keeps
them, and an import across a layer boundary breaks the contract that forbids it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "views", "jobs", "models")
LAYERS = "Layers: cli > views | jobs > services > security | notify > platform > models > domain | sheets"
FACTORY = "Nothing below the factory imports it"
DOMAIN_PURE = "The domain is pure"
SHEETS_PURE = "Sheets are pure"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("lint-imports")
    command = [str(script)] if script.exists() else [shutil.which("lint-imports") or "lint-imports"]
    env = dict(os.environ, COLUMNS="400", PYTHONPATH=str(cwd))  # one line per contract
    return subprocess.run([*command, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory) -> Path:
    """The four root packages' Python files and .importlinter, in a folder of their own."""
    target = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package,
                        ignore=lambda _d, names: [n for n in names if not (n.endswith(".py") or "." not in n)])
    shutil.copy(ROOT / ".importlinter", target / ".importlinter")
    return target


def test_the_tree_keeps_every_contract():
    """The code as it is keeps every layer contract, so `make test` goes on."""
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module, line, contract, chain", [
    ("app/platform/kv.py", "import app.services.staff", LAYERS, "app.platform.kv -> app.services.staff"),
    ("app/platform/audit.py", "from app import create_app", FACTORY, "app.platform.audit -> app"),
    ("app/security/scope.py", "from app.services import lookups", LAYERS, "app.security.scope -> app.services.lookups"),
    ("jobs/stats.py", "import views.home", LAYERS, "jobs.stats -> views.home"),
    ("app/services/paging.py", "import views.base", LAYERS, "app.services.paging -> views.base"),
    ("models/staff.py", "from app.security import roles", LAYERS, "models.staff -> app.security.roles"),
    ("app/sheets/spec.py", "import models.staff", LAYERS, "app.sheets.spec -> models.staff"),
    ("app/domain/health.py", "from flask import current_app", DOMAIN_PURE, "app.domain.health -> flask"),
    ("app/domain/identity.py", "from app.platform import clock", LAYERS, "app.domain.identity -> app.platform.clock"),
])
def test_a_forbidden_import_breaks_its_contract(tree_copy, module, line, contract, chain):
    """One import across a boundary (platform → services, security → services, domain → Flask, …)
    fails the run and names the contract and the import."""
    path = tree_copy / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + f"\n{line}  # added by the test\n", encoding="utf-8")
    try:
        result = lint_imports(tree_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    broken = [text for text in out.splitlines() if " BROKEN" in text]
    assert any(text.startswith(contract) for text in broken), out  # (an indirect chain may break another too)
    assert chain in out, out
