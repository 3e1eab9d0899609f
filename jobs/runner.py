"""What ``rq cron`` enqueues: one module-level function that runs a registry job by
name inside the worker's app context (jobs/cron_config.py registers it per job)."""
from __future__ import annotations

from jobs.context import with_app_context
from jobs.registry import JOBS


@with_app_context
def run_scheduled(name: str):
    """RQ job: run the scheduled job ``name`` from jobs/registry.py."""
    job = JOBS.get(name)
    if job is None:
        raise LookupError(f"unknown scheduled job {name!r}")
    return job.func()
