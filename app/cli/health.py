"""``flask --app run health keys | rekey | rebuild | purge`` (SPEC §3; see
app/services/health/feeds/keys.py for the key rotation steps)."""
from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

from app.platform.extensions import db
from app.platform.queue import enqueue
from app.services.health.feeds.keys import fingerprints, rekey, stale
from app.services.health.feeds.retention import purge
from app.services.health.status.summary import rebuild


def _echo(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


def init_app(app: Flask) -> None:
    health_cli = AppGroup("health", help="Health data: ID keys, summaries, retention.")

    @health_cli.command("keys")
    def keys_cmd():
        """Fingerprints of the configured ID hash secrets and whether staff keys are stale."""
        _echo({**fingerprints(), "stale": stale(db.session)})

    @health_cli.command("rekey")
    @click.option("--background", is_flag=True, help="Queue an RQ job instead of running here.")
    def rekey_cmd(background: bool):
        """Recompute every staff member's ID keys (after ID_HASH_KEY changed), then the summaries."""
        if background:
            _echo({"job_id": enqueue("jobs.health.rekey_job", job_kind="health_rekey")})
            return
        _echo(rekey(db.session))

    @health_cli.command("rebuild")
    @click.option("--background", is_flag=True, help="Queue an RQ job instead of running here.")
    def rebuild_cmd(background: bool):
        """Recompute every staff key's summary and daily tallies from the records."""
        if background:
            _echo({"job_id": enqueue("jobs.health.rebuild_job", job_kind="health_rebuild")})
            return
        _echo(rebuild(db.session))

    @health_cli.command("purge")
    def purge_cmd():
        """Purge test records older than TEST_RETENTION_DAYS now."""
        _echo(purge(db.session))

    app.cli.add_command(health_cli)
