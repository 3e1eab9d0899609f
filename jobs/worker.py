"""The RQ worker class: ``rq worker -w jobs.worker.SentinelWorker`` (app/platform/supervisor.py,
Procfile, deploy/systemd).

An RQ ``SimpleWorker`` (jobs run in the worker process, so the app is built once per
process, see app/platform/queue.py) with two additions:

* **Heartbeats while a job runs.** A simple worker has no work horse to watch, so RQ
  renews nothing during a job: its entry in the ``StartedJobRegistry`` was good for the
  job timeout (an hour). Here a thread renews the worker, the job and the execution
  every ``HEARTBEAT_SECONDS`` for ``HEARTBEAT_TTL`` seconds (RQ's own
  ``maintain_heartbeats``). A worker that dies (``kill -9``, out of memory, power)
  stops renewing: ``HEARTBEAT_TTL`` seconds later RQ's ``StartedJobRegistry.cleanup()``
  takes its job for abandoned, and app/platform/job_reaper.py marks the job failed.
* **Recycling above a memory threshold.** After a job, when the process's resident
  memory is above ``WORKER_MAX_RSS_MB`` (0: never), the worker stops cleanly (exit 0)
  instead of taking the next job; its supervisor (``python run.py``, systemd's
  ``Restart=always``, a Procfile process manager) starts a fresh one. CPython rarely
  gives a big job's memory back to the system, a new process does.

The worker's own key expires ``WORKER_TTL`` + 60 s after its last heartbeat, so a dead
worker also leaves RQ's worker list within two minutes.
"""
from __future__ import annotations

import logging
import os
import resource
import threading
import uuid
from typing import Optional

from rq.job import Job
from rq.queue import Queue
from rq.worker import SimpleWorker, WorkerStatus

from jobs.context import worker_app

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
HEARTBEAT_TTL = 30  # three heartbeats: a job not renewed for this long is abandoned
WORKER_TTL = 60
_STOP_JOIN_SECONDS = 5


def current_rss_mb() -> float:
    """Resident memory of this process in MB (Linux: now; elsewhere: the peak so far)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux, bytes on macOS
        return peak / 1024 if peak < 1 << 32 else peak / (1024 * 1024)


def max_rss_mb() -> float:
    """``WORKER_MAX_RSS_MB`` of the worker's app (0: never recycle)."""
    return float(worker_app().config.get("WORKER_MAX_RSS_MB") or 0)


class SentinelWorker(SimpleWorker):
    """A SimpleWorker that heartbeats during a job and recycles itself when big."""

    def __init__(self, queues, *args, **kwargs) -> None:
        if not (args or kwargs.get("name")):
            # named after its queue (RQ: a bare uuid), so that the worker's registration
            # — ``rq:worker:<name>`` and its entry in ``rq:workers`` — says whose it is,
            # also once a killed worker's hash has expired (rq info, a test run's cleanup)
            first = queues[0] if isinstance(queues, (list, tuple)) else queues
            kwargs["name"] = f"{getattr(first, 'name', first)}.{uuid.uuid4().hex}"
        super().__init__(queues, *args, **kwargs)
        self.worker_ttl = min(self.worker_ttl, WORKER_TTL)
        self.job_monitoring_interval = HEARTBEAT_SECONDS
        self._beating: Optional[tuple[threading.Event, threading.Thread]] = None

    def get_heartbeat_ttl(self, job: Job) -> int:
        """How long the job's StartedJobRegistry entry lives without a heartbeat."""
        return HEARTBEAT_TTL

    def execute_job(self, job: Job, queue: Queue) -> None:
        self.prepare_execution(job)
        self._start_heartbeats(job)
        try:
            self.perform_job(job, queue)
        finally:
            self._stop_heartbeats()
        self.set_state(WorkerStatus.IDLE)
        self._recycle_if_big()

    def handle_execution_ended(self, job: Job, queue: Queue, heartbeat_ttl: int) -> None:
        # The job's code has returned: no heartbeat may race RQ's success/failure handling.
        self._stop_heartbeats()
        super().handle_execution_ended(job, queue, heartbeat_ttl)

    def _start_heartbeats(self, job: Job) -> None:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    self.maintain_heartbeats(job)
                except Exception:  # a Redis hiccup: the next beat may pass
                    log.warning("heartbeat for job %s failed", job.id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"heartbeat-{job.id}", daemon=True)
        thread.start()
        self._beating = (stop, thread)

    def _stop_heartbeats(self) -> None:
        if self._beating is None:
            return
        stop, thread = self._beating
        self._beating = None
        stop.set()
        thread.join(_STOP_JOIN_SECONDS)

    def _recycle_if_big(self) -> None:
        limit = max_rss_mb()
        if not limit:
            return
        rss = current_rss_mb()
        if rss > limit:
            log.warning("worker %s uses %.0f MB (WORKER_MAX_RSS_MB=%.0f): stopping after this job "
                        "so that a fresh process takes the next one", self.name, rss, limit)
            self._stop_requested = True
