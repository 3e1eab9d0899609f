"""Browser tests against the real app: a fresh instance (SQLite, migrated, demo data),
served by gunicorn (or ``python run.py`` once app/platform/supervisor.py exists) on a free
port, with its Redis keys under a unique prefix on the real Redis, driven by Debian's
headless Chromium through Playwright.

Nothing here skips: a missing chromium, Redis or a server that does not come up
fails the run. Screenshots go to SENTINEL_E2E_SCREENSHOTS (default: a pytest tmp dir).
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("SENTINEL_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
REDIS_URL = os.environ.get("SENTINEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "Sentinel#2026"
STARTUP_SECONDS = 60
expect.set_options(timeout=10_000)  # a shared 2-core machine can be slow; nothing here is timed
_SERVER_LOG: list[Path] = []  # the live server's log, shown with any failing test


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _SERVER_LOG and _SERVER_LOG[0].exists():
        lines = _SERVER_LOG[0].read_text(errors="replace").splitlines()
        report.sections.append(("live server log (last 80 lines)", "\n".join(lines[-80:])))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str], env: dict, log: Path) -> None:
    with log.open("a") as out:
        done = subprocess.run(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if done.returncode:
        pytest.fail(f"{' '.join(args)} failed ({done.returncode}):\n{log.read_text()[-4000:]}", pytrace=False)


def _server_command(port: int) -> list[str]:
    mode = os.environ.get("SENTINEL_E2E_SERVER", "auto")
    if mode == "run" or (mode == "auto" and (ROOT / "app" / "supervisor.py").exists()):
        return [str(BIN / "python"), "run.py"]
    return [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "60", "run:create_app()"]


def _wait_until_up(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited ({proc.returncode}):\n{log.read_text()[-4000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(url + "/login/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"the server did not answer within {STARTUP_SECONDS}s:\n{log.read_text()[-4000:]}", pytrace=False)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    # the group we started (gunicorn and its workers, or run.py, which stops its children)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_prefix():
    """A unique key prefix on the real Redis, its keys removed afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as err:
        pytest.fail(f"Redis not reachable at {REDIS_URL}: {err}", pytrace=False)
    prefix = f"sentinel-e2e-{uuid.uuid4().hex[:10]}"
    yield prefix
    # our prefix (app keys, sessions, limiter), RQ's keys for our queue and its jobs
    from tests.redis_hygiene import forget_run

    forget_run(client, prefix, prefix)


@dataclass(frozen=True)
class LiveServer:
    url: str
    instance: Path

    @property
    def database(self) -> Path:
        return self.instance / "sentinel.db"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, redis_prefix):
    """The real app on a fresh, migrated instance with demo data (``.url``, ``.instance``)."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    log = instance / "server.log"
    _SERVER_LOG[:] = [log]
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(
        SENTINEL_INSTANCE_DIR=str(instance), REDIS_URL=REDIS_URL, REDIS_PREFIX=redis_prefix + ":",
        QUEUE_NAME=redis_prefix, HOST="127.0.0.1", PORT=str(port), WEB_WORKERS="2", STOP_TIMEOUT="15",
        AUTH_RATE_LIMIT="1000 per minute",
        PYTHONDONTWRITEBYTECODE="1", PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    flask = str(BIN / "flask")
    _run([flask, "--app", "run", "db", "upgrade"], env, log)
    _run([flask, "--app", "run", "demo", "load"], env, log)
    with log.open("a") as out:
        proc = subprocess.Popen(
            _server_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(proc, url, log)
        yield LiveServer(url, instance)
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, launched by Playwright."""
    from playwright.sync_api import Error, sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium", pytrace=False)
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Error as err:
        pw.stop()
        pytest.fail(f"chromium did not start: {err}", pytrace=False)
    yield chromium
    chromium.close()
    pw.stop()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) with the app as base URL."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    configured = os.environ.get("SENTINEL_E2E_SCREENSHOTS")
    path = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Fill in and submit the real login form as ``username`` on ``page``."""
    page.goto("/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("form[name=login] [type=submit]").click()
    page.wait_for_load_state("networkidle")


@pytest.fixture
def login(page):
    """Fill in and submit the real login form as ``username``."""

    def _login(username: str, password: str = PASSWORD) -> None:
        sign_in(page, username, password)

    return _login


CJK = re.compile(r"[\u4e00-\u9fff]")


HEAD_PHONE = "13800138000"  # app/cli/demo.py: heads two demo enterprises
_NOT_PAGES = re.compile(r"^/(logout|lang|static|assets|api|swagger)\b|export|download|template|\.xlsx|/delete", re.I)


def latest_sms_code(database: Path, phone: str = HEAD_PHONE) -> str:
    """The 6-digit code of the newest SMS stored in the outbox for ``phone``."""
    import sqlite3

    with sqlite3.connect(database) as conn:
        row = conn.execute("SELECT body FROM message WHERE recipient = ? AND kind = 'sms' ORDER BY id DESC LIMIT 1",
                           (phone,)).fetchone()
    assert row, f"no SMS stored for {phone}"
    return re.search(r"\d{6}", row[0]).group(0)


def log_in_as_head(page, database: Path, phone: str = HEAD_PHONE) -> None:
    """An enterprise head's SMS login, then the first of their enterprises if they head
    several. A phone can ask one code a minute: each test file logs in with a head phone
    of its own (app/cli/demo.py: ``139000000NN`` heads enterprise NN)."""
    page.goto("/head/login")
    page.fill("#phone", phone)
    page.locator("#get-code").click()
    expect(page.locator("#code-status")).to_have_text("验证码已发送")
    page.fill("#code", latest_sms_code(database, phone))
    page.locator("#login-btn").click()
    page.wait_for_url(re.compile(r"/head/(select)?$"))
    if page.url.endswith("/select"):
        page.locator(".head-choice button").first.click()
        page.wait_for_url(re.compile(r"/head/$"))


def page_links(page) -> list[str]:
    """The current page and every page its links (navbar, menus, content) lead to on the
    site, one per pattern (``/enterprises/3`` stands for every enterprise's page);
    downloads, exports and logging out left out."""
    from urllib.parse import urlsplit

    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.getAttribute('href'))")
    paths = [urlsplit(page.url).path]
    for href in hrefs:
        parts = urlsplit(href)
        if parts.netloc or not parts.path.startswith("/") or _NOT_PAGES.search(parts.path):
            continue
        paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    chosen: dict[str, str] = {}
    for path in paths:
        chosen.setdefault(re.sub(r"\d+", "N", path), path)
    return list(chosen.values())


class Wire:
    """What the page fetched from the network since ``reset()`` (DevTools protocol events):
    ``tally()`` = (requests not answered from the browser's cache, their bytes on the wire
    — headers and bodies as sent, compressed if they were —, their URLs)."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.requests: dict[str, str] = {}
        self.cached: set[str] = set()
        self.bytes: dict[str, int] = {}
        self.cdp.on("Network.requestWillBeSent", lambda e: self.requests.__setitem__(e["requestId"], e["request"]["url"]))
        self.cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", lambda e: self.bytes.__setitem__(e["requestId"], e["encodedDataLength"]))

    def _response(self, event) -> None:
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromPrefetchCache") or response.get("fromServiceWorker"):
            self.cached.add(event["requestId"])

    def reset(self) -> None:
        self.requests.clear()
        self.cached.clear()
        self.bytes.clear()

    def settle(self, page, quiet_ms: int = 500, limit_ms: int = 10_000) -> None:
        """Waits until nothing was asked or received for ``quiet_ms`` (the favicon comes
        after the page's load), so a visit's requests are not counted with the next one's."""
        seen, quiet, waited = -1, 0, 0
        while quiet < quiet_ms and waited < limit_ms:
            now = len(self.requests) + len(self.bytes)
            quiet = quiet + 100 if now == seen else 0
            seen = now
            page.wait_for_timeout(100)
            waited += 100

    def clear_cache(self) -> None:
        self.cdp.send("Network.clearBrowserCache")

    def tally(self) -> tuple[int, int, list[str]]:
        fetched = [rid for rid, url in self.requests.items()
                   if rid not in self.cached and not url.startswith(("data:", "blob:"))]
        return len(fetched), sum(self.bytes.get(rid, 0) for rid in fetched), [self.requests[r] for r in fetched]


def fill_template(path, rows: list[dict]) -> None:
    """Write ``rows`` (label → value) under a downloaded staff template's example row, as a
    user would in Excel."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.active
    header_row = next(r for r in range(1, 6) if str(ws.cell(row=r, column=1).value or "").startswith("姓名"))
    labels = {str(c.value).split("(")[0]: c.column for c in ws[header_row] if c.value}
    for offset, values in enumerate(rows):
        for label, value in values.items():
            ws.cell(row=header_row + 2 + offset, column=labels[label], value=value)
    wb.save(path)


def run_job(live_server, redis_prefix: str, name: str) -> None:
    """``flask --app run jobs run <name>`` against the live server's instance and this run's
    Redis keys, as an operator runs a job by hand."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SENTINEL_INSTANCE_DIR=str(live_server.instance), REDIS_URL=REDIS_URL,
               REDIS_PREFIX=redis_prefix + ":", QUEUE_NAME=redis_prefix,
               PORT=live_server.url.rsplit(":", 1)[1], PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "run", "jobs", "run", name], cwd=ROOT,
                          env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
