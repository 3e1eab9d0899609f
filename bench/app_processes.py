"""The real app in child processes, for bench_registry_io.py: gunicorn with one worker,
an RQ SimpleWorker (the supervisor's command), their peak RSS, and a tiny HTTP client
(multipart upload, JWT) on urllib."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("SENTINEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
USER, PASSWORD = "town_nansha", "Sentinel#2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the peak resident set size of a live process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def forget_redis(url: str, name: str) -> None:
    """Remove what a bench run named ``name`` (its ``REDIS_PREFIX`` without the colon and
    its ``QUEUE_NAME``) left in a shared Redis: its own keys, and RQ's — the queue, the
    jobs it holds and the queue's entry in ``rq:queues`` (RQ names those itself)."""
    import redis

    client = redis.Redis.from_url(url)
    for job_id in client.lrange(f"rq:queue:{name}", 0, -1):
        client.delete(f"rq:job:{job_id.decode()}")
    client.srem("rq:queues", f"rq:queue:{name}")
    for key in client.scan_iter(match=f"*{name}*", count=1000):
        client.delete(key)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    """Until ``url``/login/ answers; RuntimeError with the log's tail if ``proc`` died or
    ``seconds`` went by first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url + "/login/", timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.2)


class Web:
    """gunicorn with one worker: the process that serves (and does) the request."""

    def __init__(self, env: dict, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{self.port}", "--timeout", "600",
             "--no-control-socket", "run:create_app()"],
            cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_until_up(self.url, self.proc, log)

    def worker_pid(self) -> int:
        import psutil

        children = psutil.Process(self.proc.pid).children()
        assert len(children) == 1, children
        return children[0].pid

    def token(self) -> str:
        body = json.dumps({"username": USER, "password": PASSWORD, "provider": "db"}).encode()
        request = urllib.request.Request(self.url + "/api/v1/security/login", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            return json.load(response)["access_token"]


class Worker:
    """``rq worker -w jobs.worker.SentinelWorker`` (the supervisor's command), warmed up."""

    def __init__(self, env: dict, log: Path):
        from redis import Redis
        from rq import Queue, Worker as RqWorker

        self.queue_name = env["QUEUE_NAME"]
        self.log = log
        # the supervisor's worker command, with the import's INFO line (its phases) logged
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER_MAIN, "worker", "--url", REDIS_URL, "--path", str(ROOT),
             "-w", "jobs.worker.SentinelWorker", self.queue_name],
            cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)
        redis = Redis.from_url(REDIS_URL)
        queue = Queue(self.queue_name, connection=redis)
        deadline = time.monotonic() + 60
        while not any(w.pid == self.proc.pid for w in RqWorker.all(connection=redis)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.1)
        # the first job builds the worker's app (once per process): not part of an import
        job = queue.enqueue("jobs.runner.run_scheduled", "maintenance.purge_jobs")
        while job.get_status(refresh=True) not in ("finished", "failed"):
            time.sleep(0.05)
        assert job.get_status() == "finished", job.latest_result()

    def peak_mb(self) -> float:
        return peak_rss_mb(self.proc.pid)


WORKER_MAIN = ("import logging, sys; logging.basicConfig(level=logging.WARNING); "
               "logging.getLogger('app.services.imports').setLevel(logging.INFO); "
               "from rq.cli.cli import main; sys.argv[0] = 'rq'; main()")
PHASES = re.compile(r"staff import of \d+ rows .*?: (.*)$", re.M)


def multipart(fields: dict, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
                 .encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def api(web: Web, token: str, path: str, data=None, content_type=None):
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(web.url + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.load(response)
