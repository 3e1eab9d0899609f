"""``flask --app run rules resend [--date D] [--setting ID] [--summary]``: send a day's
alerts (or the task-force summary) again, deliberately — ``rules.alerts`` never sends a
recipient the same day's alert twice on its own."""
from __future__ import annotations

import json
from datetime import date
from typing import Optional

import click
from flask import Flask
from flask.cli import AppGroup

from app.platform.clock import local_today
from app.platform.extensions import db
from app.services.rules import alerts


def init_app(app: Flask) -> None:
    rules_cli = AppGroup("rules", help="Testing rules and alerts (告警设置 / 告警推送).")

    @rules_cli.command("resend")
    @click.option("--date", "day", default=None, help="District day YYYY-MM-DD (default: today).")
    @click.option("--setting", "setting_id", type=int, default=None, help="One alert setting's id (default: all).")
    @click.option("--summary", is_flag=True, help="Re-send the task-force summary instead of the alerts.")
    def resend_cmd(day: Optional[str], setting_id: Optional[int], summary: bool):
        """Store the day's alerts (or summary) once more for every recipient, and send them."""
        when = date.fromisoformat(day) if day else local_today()
        result = alerts.resend(db.session, when, alerts.SUMMARY if summary else alerts.ALERTS, setting_id)
        click.echo(json.dumps(result, ensure_ascii=False, default=str))

    app.cli.add_command(rules_cli)
