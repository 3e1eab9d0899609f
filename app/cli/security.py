"""``flask --app run security data-keys | reencrypt``: the keys personal data is sealed
with at rest (app/domain/sealing.py; rotation steps in the README, Security)."""
from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup


def _echo(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


def init_app(app: Flask) -> None:
    security_cli = AppGroup("security", help="Personal data at rest: data keys, re-encryption.")

    @security_cli.command("data-keys")
    def data_keys_cmd():
        """Ids of the configured data keys and how many staff values each key sealed."""
        from app.platform.data_keys import key_ids
        from app.platform.extensions import db
        from app.services.reencrypt import key_counts

        _echo({**key_ids(), "sealed": key_counts(db.session)})

    @security_cli.command("reencrypt")
    @click.option("--batch", default=2000, show_default=True, help="Rows per committed batch.")
    def reencrypt_cmd(batch: int):
        """Re-seal staff ID numbers and phones under the current DATA_KEY (after a rotation; safe to run twice)."""
        from app.platform.extensions import db
        from app.services.reencrypt import reencrypt

        _echo(reencrypt(db.session, batch=batch))

    app.cli.add_command(security_cli)
