"""Operations own the transaction (app/platform/operations.py): no service, security or
notify module, no view, job or command commits or rolls back by itself — a half-written
change can only come from the one wrapper, which commits once or rolls back whole."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("app/services", "app/security", "app/notify", "app/cli", "views", "jobs")
# The worker's entry cleans the session after a failed job (it runs the job, not its work).
ALLOWED = {"jobs/context.py"}
CALL = re.compile(r"\.(commit|rollback)\(\)|commit=True")


def offenders(root: Path = ROOT) -> list[str]:
    found = []
    for folder in SCANNED:
        for path in sorted((root / folder).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if CALL.search(code) and not code.lstrip().startswith(('"', "'")):
                    found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_nothing_commits_or_rolls_back_outside_the_operation_wrapper():
    assert offenders() == []


def test_the_check_finds_a_commit(tmp_path):
    """The scan itself works: a service that commits is named."""
    service = tmp_path / "app" / "services"
    service.mkdir(parents=True)
    (service / "bad.py").write_text("def save(session):\n    session.add(1)\n    session.commit()\n")
    assert offenders(tmp_path) == ["app/services/bad.py:3: session.commit()"]
