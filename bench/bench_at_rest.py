"""Benchmark: the code before and after a change, in one run on PostgreSQL — issue 11
(staff ID numbers and phones sealed at rest) and issue 12 (the structure: operations,
declared resources, the platform layer; ``--feeds`` adds the feed ingest); target: after
within 10 % of before.

The code before (``--base``, default 5ac15ae: the commit the change started from) is
checked out into a scratch git worktree, removed afterwards. Both versions then run
the same existing benchmark machinery — each version its own copy of it — in child
processes, alternately (before, after; then after, before; …) so that the load of a
shared machine drifts over both alike:

* **registry import and export** of ``--rows`` people: ``bench_registry_io.py --child
  postgresql`` (the real app in gunicorn and an RQ worker, a fresh database; import of
  new rows, the same file again as updates, the export of the town), with one
  workbook generated once for both versions;
* **the staff list searched by a full ID number and by a full phone, and one person's
  health lookup**, at ``--staff`` people with health summaries: ``bench_staff_list``'s
  ``scratch_app``, ``staff_data.bulk_load`` and ``bench_staff_health.add_health``,
  measured in-process with the Flask test client as ``town_nansha`` (``timed``: 3
  warm-up requests, then 30; the median). The plain list (20 people unsealed per
  page after) is shown as a control.

Reported per step: every round's figure for both versions, the best of each (the least
disturbed on a shared machine) and after / before.

    .venv/bin/python bench/bench_at_rest.py [--rows 100000] [--staff 200000] [--rounds 2] [--base 5ac15ae]

Needs git, PostgreSQL (SENTINEL_TEST_PG) and Redis (SENTINEL_TEST_REDIS_URL) as the
other benches; their databases and Redis keys are removed by the machinery they reuse.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = 1.10  # after / before
IO_STEPS = (("import, new rows (s)", "import_new"), ("import, all updates (s)", "import_update"),
            ("export (s)", "export"))


# --- the code before ------------------------------------------------------------------

class Worktree:
    """``git worktree add --detach`` of ``commit`` in a temporary folder, with its
    translations compiled (build products, not in git); removed on exit."""

    def __init__(self, commit: str):
        self.commit = commit
        self.path = Path(tempfile.gettempdir()) / f"sentinel-at-rest-{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> Path:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(self.path), self.commit],
                       check=True)
        try:
            subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "compile", "-d",
                            str(self.path / "app" / "translations")], check=True)
        except BaseException:
            self.__exit__()
            raise
        return self.path

    def __exit__(self, *exc) -> None:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(self.path)], check=False)


# --- children -------------------------------------------------------------------------

def run_io(tree: Path, workbook: Path, rows: int) -> dict:
    """One import-new / import-again / export run of ``tree``'s bench_registry_io."""
    done = subprocess.run([sys.executable, str(tree / "bench" / "bench_registry_io.py"), "--child", "postgresql",
                           "--workbook", str(workbook), "--rows", str(rows), "--repeat", "1"],
                          cwd=tree, stdout=subprocess.PIPE, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {key: result[key]["seconds"] for _label, key in IO_STEPS}


def run_feeds(tree: Path, records: int, n_staff: int) -> dict:
    """``tree``'s feed ingest over HTTP into PostgreSQL (``bench_feeds.py --child``):
    seconds for ``records`` test records in 100,000-row (or smaller) batches."""
    batch = min(100_000, records)
    done = subprocess.run([sys.executable, str(tree / "bench" / "bench_feeds.py"), "--child", "--backends",
                           "postgresql", "--records", str(records), "--batch", str(batch), "--staff", str(n_staff)],
                          cwd=tree, stdout=subprocess.PIPE, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"feed ingest (s)": round(records / result["rows_s"], 2)}


def run_lookups(tree: Path, n_staff: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--lookups-child", str(tree), "--staff", str(n_staff)],
                          cwd=tree, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def lookups_child(tree: Path, n_staff: int) -> dict:
    """In this process, ``tree``'s app and bench machinery (imported from ``tree``)."""
    sys.path[:0] = [str(tree), str(tree / "bench")]
    import app as app_package
    import bench_staff_health as health
    import bench_staff_list as base
    from staff_data import bulk_load

    assert Path(app_package.__file__).resolve().is_relative_to(tree.resolve()), app_package.__file__
    from sqlalchemy import select

    try:
        from app.platform.extensions import db
    except ImportError:  # the code before issue 12 kept it in app/extensions.py
        from app.extensions import db
    from models.staff import Staff

    try:
        with base.scratch_app("postgresql") as app:
            bulk_load(app, n_staff)
            sample = health.add_health(app)
            with app.app_context():
                number, phone = db.session.execute(select(Staff.id_number, Staff.phone)
                                                   .where(Staff.id == sample)).one()
                db.session.remove()
            client = health.login(app, base.USER)
            token = client.post("/api/v1/security/login", json={"username": base.USER, "password": base.PASSWORD,
                                                                "provider": "db"}).json["access_token"]
            api = {"Authorization": f"Bearer {token}"}
            out = {}
            for what, url, headers in (
                ("GET /staff/?size=20&q=<ID number>", f"/staff/?size=20&q={number}", None),
                ("GET /api/v1/staff/?q=<ID number>", f"/api/v1/staff/?page=1&q={number}", api),
                ("GET /api/v1/staff/?q=<phone>", f"/api/v1/staff/?page=1&q={phone}", api),
                ("GET /api/v1/staff/<id>/health", f"/api/v1/staff/{sample}/health", api),
                ("GET /staff/?size=20 (control)", "/staff/?size=20", None),
            ):
                median, _p95, info = base.timed(client, url, headers)
                if "q=" in url and headers:
                    assert info["count"] >= 1 and sample in info["ids"], (what, info)
                out[what] = median
        return out
    finally:
        base.clean_redis()


# --- report ---------------------------------------------------------------------------

def report(runs: dict, rows: int, n_staff: int) -> list[str]:
    """Print the table; returns the steps over the target."""
    print(f"\n{rows:,}-row import/export (seconds) and lookups at {n_staff:,} staff (median ms), PostgreSQL")
    print("| step | before, each round | after, each round | best before | best after | after / before |")
    print("|---|---|---|---:|---:|---:|")
    missed = []
    steps = [(label, "io", key) for label, key in IO_STEPS] + \
            [(what, "feeds", what) for what in (runs["before"]["feeds"] or [{}])[0]] + \
            [(what, "lookups", what) for what in runs["before"]["lookups"][0]]
    for label, group, key in steps:
        before = [r[key] for r in runs["before"][group]]
        after = [r[key] for r in runs["after"][group]]
        ratio = min(after) / min(before)
        print(f"| {label} | {', '.join(f'{v:.2f}' for v in before)} | {', '.join(f'{v:.2f}' for v in after)} | "
              f"{min(before):.2f} | {min(after):.2f} | {ratio:.2f} |")
        if ratio > TARGET and "control" not in label:
            missed.append(f"{label}: {ratio:.2f}")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="people in the imported workbook")
    parser.add_argument("--staff", type=int, default=200_000, help="people in the lookups' database")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each version, alternating")
    parser.add_argument("--base", default="5ac15ae", help="the commit before the change")
    parser.add_argument("--feeds", type=int, default=0,
                        help="also time the feed ingest of this many test records (issue 12's measure)")
    parser.add_argument("--lookups-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.lookups_child:
        print(json.dumps(lookups_child(Path(args.lookups_child), args.staff), ensure_ascii=False))
        return 0
    sys.path.insert(0, str(HERE))
    from bench_registry_io import generate

    started = time.perf_counter()
    load = os.getloadavg()
    runs = {v: {"io": [], "feeds": [], "lookups": []} for v in ("before", "after")}
    with Worktree(args.base) as old, tempfile.TemporaryDirectory(prefix="sentinel-at-rest-") as tmp:
        trees = {"before": old, "after": ROOT}
        workbook = Path(tmp) / "staff.xlsx"
        generate(workbook, args.rows)
        for n in range(args.rounds):
            order = ("before", "after") if n % 2 == 0 else ("after", "before")
            for version in order:
                runs[version]["io"].append(run_io(trees[version], workbook, args.rows))
                print(f"round {n + 1}, {version}: {runs[version]['io'][-1]}", flush=True)
            for version in order if args.feeds else ():
                runs[version]["feeds"].append(run_feeds(trees[version], args.feeds, args.staff))
                print(f"round {n + 1}, {version}: {runs[version]['feeds'][-1]}", flush=True)
            for version in order:
                runs[version]["lookups"].append(run_lookups(trees[version], args.staff))
                print(f"round {n + 1}, {version}: {runs[version]['lookups'][-1]}", flush=True)
    missed = report(runs, args.rows, args.staff)
    print(f"\nload average at the start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, at the end "
          + " / ".join(f"{v:.1f}" for v in os.getloadavg()) + f"; {time.perf_counter() - started:.0f} s in all")
    print("\n" + json.dumps(runs, ensure_ascii=False))
    print(f"\nover the target (after / before > {TARGET}): {missed}" if missed else
          f"\nevery step within the target (after / before ≤ {TARGET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
