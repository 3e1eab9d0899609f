"""Page weight (issue 13): bytes on the wire and requests per page, first and repeat visit,
for every page each role reaches from its menus and its home page.

For each source tree — this one (after) and, with ``--base COMMIT``, that commit checked
out by ``git archive`` into a scratch folder (before) — the real app is started as the
browser tests start it (tests/e2e/conftest.py: a fresh instance, migrated, demo data,
gunicorn with 2 workers, Redis keys under a unique prefix), and Debian's Chromium
(Playwright) logs in as each role (the enterprise head by SMS code, at phone size) and
opens each page twice:

* **first visit**: the browser's cache emptied just before (cookies kept);
* **repeat visit**: the same page opened again (a normal navigation, not a reload).

Measured through the DevTools protocol: ``requests`` = requests that went to the network
(not answered from the browser's cache), ``KB`` = the bytes received for them (headers
and bodies as sent, compressed if they were). A repeat visit that fetches only the HTML
counts 1 request.

    .venv/bin/python bench/bench_page_weight.py [--base 1e19a89] [--roles admin,town_nansha,...] [--json FILE]

Needs Redis (SENTINEL_TEST_REDIS_URL) and /usr/bin/chromium, as for the browser tests.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from app_processes import stop, wait_until_up  # noqa: E402
from tests.e2e.conftest import (  # noqa: E402
    CHROMIUM, CHROMIUM_ARGS, PASSWORD, REDIS_URL, Wire, _free_port, log_in_as_head, page_links,
)

BIN = Path(sys.executable).parent
ROLES = ["admin", "town_nansha", "bureau_port", "taskforce", "head"]
PC, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}
TARGET_FIRST_KB = 300


class Server:
    """The app of one source tree, as the browser tests run it."""

    def __init__(self, tree: Path):
        self.tree = tree
        self.instance = Path(tempfile.mkdtemp(prefix="bench-weight-"))
        self.prefix = f"bench-weight-{uuid.uuid4().hex[:8]}"
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(SENTINEL_INSTANCE_DIR=str(self.instance), REDIS_URL=REDIS_URL, REDIS_PREFIX=self.prefix + ":",
                   QUEUE_NAME=self.prefix, AUTH_RATE_LIMIT="1000 per minute", PYTHONDONTWRITEBYTECODE="1",
                   PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
        log = self.instance / "server.log"
        for step in (["db", "upgrade"], ["demo", "load"]):
            subprocess.run([str(BIN / "flask"), "--app", "run", *step], cwd=tree, env=env, check=True,
                           stdout=log.open("a"), stderr=subprocess.STDOUT)
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "120",
             "run:create_app()"], cwd=tree, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_until_up(self.url, self.proc, log, 120)

    def stop(self) -> None:
        stop(self.proc)
        import redis

        from tests.redis_hygiene import forget_run

        forget_run(redis.Redis.from_url(REDIS_URL), self.prefix, self.prefix)
        shutil.rmtree(self.instance, ignore_errors=True)


def log_in(page, server: Server, role: str) -> None:
    if role == "head":
        log_in_as_head(page, server.instance / "sentinel.db")
    else:
        page.goto("/login/")
        page.fill("#username", role)
        page.fill("#password", PASSWORD)
        page.locator("form[name=login] [type=submit]").click()
    page.wait_for_load_state("networkidle")


def measure_role(browser, server: Server, role: str) -> list[dict]:
    context = browser.new_context(base_url=server.url, viewport=PHONE if role == "head" else PC,
                                  is_mobile=role == "head", has_touch=role == "head")
    page = context.new_page()
    try:
        log_in(page, server, role)
        wire = Wire(page)
        rows = []
        for path in page_links(page):
            row = {"role": role, "page": path}
            for visit in ("first", "repeat"):
                if visit == "first":
                    wire.clear_cache()
                wire.reset()
                response = page.goto(path, wait_until="networkidle")
                wire.settle(page)
                row["status"] = response.status if response else None
                count, size, urls = wire.tally()
                row[visit] = {"requests": count, "bytes": size, "urls": urls}
            rows.append(row)
        return rows
    finally:
        context.close()


def measure(tree: Path, roles: list[str]) -> list[dict]:
    from playwright.sync_api import sync_playwright

    server = Server(tree)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                return [row for role in roles for row in measure_role(browser, server, role)]
            finally:
                browser.close()
    finally:
        server.stop()


def is_chart_page(path: str) -> bool:
    return path.startswith("/stats/")


def report(label: str, rows: list[dict]) -> None:
    print(f"\n{label}: {len(rows)} pages")
    print(f"{'role':12} {'page':46} {'status':>6} {'first req':>9} {'first KB':>9} {'repeat req':>10} {'repeat KB':>9}")
    for r in rows:
        print(f"{r['role']:12} {r['page'][:46]:46} {r['status'] or '-':>6} {r['first']['requests']:>9} "
              f"{r['first']['bytes'] / 1024:>9.1f} {r['repeat']['requests']:>10} {r['repeat']['bytes'] / 1024:>9.1f}")
    for kind, chart in (("non-chart", False), ("chart", True)):
        chosen = [r for r in rows if is_chart_page(r["page"]) == chart]
        if not chosen:
            continue
        first_kb = [r["first"]["bytes"] / 1024 for r in chosen]
        first_req = [r["first"]["requests"] for r in chosen]
        repeat_req = [r["repeat"]["requests"] for r in chosen]
        repeat_kb = [r["repeat"]["bytes"] / 1024 for r in chosen]
        print(f"  {kind:9} pages {len(chosen):3}: first visit median {median(first_kb):7.1f} KB / "
              f"{median(first_req):.0f} req, max {max(first_kb):7.1f} KB / {max(first_req)} req; repeat visit "
              f"median {median(repeat_kb):6.1f} KB / {median(repeat_req):.0f} req, max {max(repeat_kb):6.1f} KB / "
              f"{max(repeat_req)} req")
    extra = [r for r in rows if r["repeat"]["requests"] > 1]
    heavy = [r for r in rows if not is_chart_page(r["page"]) and r["first"]["bytes"] / 1024 >= TARGET_FIRST_KB]
    print(f"  repeat visits fetching more than the HTML: {len(extra)}; non-chart first visits >= "
          f"{TARGET_FIRST_KB} KB: {len(heavy)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="a commit to measure as 'before' (git archive into a scratch folder)")
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--json", help="write every row (with the fetched URLs) to this file")
    parser.add_argument("--base-only", action="store_true", help="measure the --base commit alone")
    args = parser.parse_args()
    roles = args.roles.split(",")
    results = {}
    if args.base:
        scratch = Path(tempfile.mkdtemp(prefix="bench-weight-base-"))
        try:
            archive = subprocess.run(["git", "archive", args.base], cwd=ROOT, check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True)
            results[f"before ({args.base})"] = measure(scratch, roles)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if not args.base_only:
        results["after (this tree)"] = measure(ROOT, roles)
    for label, rows in results.items():
        report(label, rows)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
