"""The README documents every environment variable the app reads."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READS = re.compile(r"""(?:environ\.get|environ\[|_env_bool|_persistent_secret|env\.get)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")


def env_keys(*files: str) -> set[str]:
    return {key for f in files for key in READS.findall((ROOT / f).read_text(encoding="utf-8"))}


def test_every_setting_is_in_the_readme_configuration_table():
    """An operator finds every variable config.py and run.py's supervisor read in the README, with its default."""
    keys = env_keys("config.py", "app/platform/supervisor.py")
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PORT"} <= keys  # the pattern still finds them
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, flags=re.M))
    assert sorted(keys - documented) == []
