"""Run every benchmark script in bench/ (bench_*.py), one after the other.

    .venv/bin/python bench/run_all.py [NAME_FILTER]     (also: make bench)

Each script runs in its own process with this interpreter and prints its own
table; a summary with the wall time of each follows. Exit status is non-zero when
any script failed. Record the numbers in bench/README.md.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = argv[1] if len(argv) > 1 else ""
    scripts = sorted(p for p in HERE.glob("bench_*.py") if wanted in p.stem)
    if not scripts:
        print(f"no benchmark matches {wanted!r}", file=sys.stderr)
        return 1
    summary = []
    for script in scripts:
        print(f"\n===== {script.name} =====", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode
        summary.append((script.name, code, time.perf_counter() - started))
    print("\n===== summary =====")
    for name, code, seconds in summary:
        print(f"{name:32} {'ok' if code == 0 else f'FAILED ({code})':12} {seconds:8.1f} s")
    return 1 if any(code for _, code, _ in summary) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
