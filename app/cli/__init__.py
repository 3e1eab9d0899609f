"""Commands: ``flask --app run roles sync | bootstrap | demo load | jobs list | jobs run NAME``
(and ``health …``, ``security …``: app/cli/health.py, app/cli/security.py).

The package holds what only the command line runs: the commands, the reference data
every install needs (bootstrap.py) and the deterministic demo data (demo.py). The
factory wires it (``init_app``); it may use every layer below it.
"""
from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup

from app.cli import health as health_cli
from app.cli import rules as rules_cli
from app.cli import security as security_cli
from app.cli.bootstrap import bootstrap, sync_roles
from app.cli.demo import load_demo, load_demo_rules
from jobs.registry import JOBS


def init_app(app: Flask) -> None:
    roles_cli = AppGroup("roles", help="Roles and permissions (data in app/security/roles.py).")
    demo_cli = AppGroup("demo", help="Demo data.")
    jobs_cli = AppGroup("jobs", help="Scheduled jobs: list them, run one now.")

    @roles_cli.command("sync")
    def roles_sync():
        """Create the role rows (idempotent)."""
        click.echo(", ".join(sync_roles()))

    @app.cli.command("bootstrap")
    def bootstrap_cmd():
        """Roles, towns and the shipped enterprise types (idempotent)."""
        bootstrap()
        click.echo("ok")

    @demo_cli.command("load")
    def demo_load():
        """Load the deterministic demo data (idempotent), with two alert settings and today's
        check, and the freight drivers' bookings and passes."""
        loaded = load_demo()
        loaded.update(load_demo_rules())
        from app.cli.demo_trucks import load_demo_trucks  # 货车司机管理 (issue 15)

        loaded.update(load_demo_trucks())
        click.echo(json.dumps(loaded, ensure_ascii=False))

    @jobs_cli.command("list")
    def jobs_list():
        """Name every scheduled job with its schedule."""
        for job in JOBS.values():
            click.echo(f"{job.name}\t{job.cron or '-'}\t{job.description}")

    @jobs_cli.command("run")
    @click.argument("name")
    def jobs_run(name: str):
        """Run one scheduled job now, in this process."""
        job = JOBS.get(name)
        if job is None:
            raise click.ClickException(f"unknown job {name!r}; see `jobs list`")
        click.echo(json.dumps(job.func(), ensure_ascii=False, default=str))

    app.cli.add_command(roles_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(jobs_cli)

    health_cli.init_app(app)
    security_cli.init_app(app)
    rules_cli.init_app(app)
