"""The benchmark scripts keep working when the code moves: every name they import from
the app (often inside functions, so only a run would notice) still exists."""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
OURS = ("app", "models", "views", "jobs", "config")


def _imports(path: Path):
    """The app imports of a script, except fallbacks in ``except ImportError:`` (kept for
    measuring older commits)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    fallbacks = {id(n) for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) for n in ast.walk(h)}
    for node in ast.walk(tree):
        if id(node) in fallbacks:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] in OURS:
            for alias in node.names:
                yield node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in OURS:
                    yield alias.name, None


@pytest.mark.parametrize("script", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_bench_script_imports_resolve(script):
    """Each `from app… import name` of a bench script names a module and attribute that exist."""
    missing = []
    for module, name in _imports(script):
        try:
            found = importlib.import_module(module)
        except ImportError as error:
            missing.append(f"{module}: {error}")
            continue
        if name and not hasattr(found, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{module}.{name}")
    assert not missing, f"{script.name} imports what no longer exists: {missing}"
