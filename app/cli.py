"""Commands: ``flask --app run roles sync | bootstrap | demo load | jobs list | jobs run NAME``
(and ``health …``, ``security …``: app/health_cli.py, app/security_cli.py)."""
from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup


def init_app(app: Flask) -> None:
    roles_cli = AppGroup("roles", help="Roles and permissions (data in app/security/roles.py).")
    demo_cli = AppGroup("demo", help="Demo data.")
    jobs_cli = AppGroup("jobs", help="Scheduled jobs: list them, run one now.")

    @roles_cli.command("sync")
    def roles_sync():
        """Create the role rows (idempotent)."""
        from app.bootstrap import sync_roles

        click.echo(", ".join(sync_roles()))

    @app.cli.command("bootstrap")
    def bootstrap_cmd():
        """Roles, towns and the shipped enterprise types (idempotent)."""
        from app.bootstrap import bootstrap

        bootstrap()
        click.echo("ok")

    @demo_cli.command("load")
    def demo_load():
        """Load the deterministic demo data (idempotent)."""
        from app.demo import load_demo

        click.echo(json.dumps(load_demo(), ensure_ascii=False))

    @jobs_cli.command("list")
    def jobs_list():
        """Name every scheduled job with its schedule."""
        from jobs.registry import JOBS

        for job in JOBS.values():
            click.echo(f"{job.name}\t{job.cron or '-'}\t{job.description}")

    @jobs_cli.command("run")
    @click.argument("name")
    def jobs_run(name: str):
        """Run one scheduled job now, in this process."""
        from jobs.registry import JOBS

        job = JOBS.get(name)
        if job is None:
            raise click.ClickException(f"unknown job {name!r}; see `jobs list`")
        click.echo(json.dumps(job.func(), ensure_ascii=False, default=str))

    app.cli.add_command(roles_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(jobs_cli)

    from app import health_cli, security_cli

    health_cli.init_app(app)
    security_cli.init_app(app)
