"""Product classes never start with ``Test``: pytest would try to collect any of them a
test module imports (the sampling record, row, fold and chunks have domain names)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("app", "models", "views", "jobs")
CLASS = re.compile(r"^\s*class (Test\w*)", re.M)


def classes_named_test(root: Path = ROOT) -> list[str]:
    found = []
    for folder in PRODUCT:
        for path in sorted((root / folder).rglob("*.py")):
            for name in CLASS.findall(path.read_text(encoding="utf-8")):
                found.append(f"{path.relative_to(root).as_posix()}: {name}")
    return found


def test_no_product_class_is_named_like_a_test():
    assert classes_named_test() == []


def test_the_check_finds_one(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "health.py").write_text("class TestRecord:\n    pass\n")
    assert classes_named_test(tmp_path) == ["models/health.py: TestRecord"]
