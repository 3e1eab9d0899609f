"""A pooled PostgreSQL connection that lay idle is tested before a request uses it: after
the database server dropped the app's connections (a restart, a network cut), the next
request is answered as usual, not with a 500."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.conftest import TEST_DB
from tests.integration import factories as F
from tests.integration.drivers import helpers as H


@pytest.mark.skipif(TEST_DB != "postgresql", reason="SQLite has no server connection to lose")
def test_a_request_after_the_server_dropped_the_pooled_connections_is_answered(app, auth):
    from app.platform.extensions import db

    token = auth.token("checkpoint")
    client = F.client_at(app)
    first, second = H.booked(app), H.booked(app)
    assert client.post("/api/v1/checkpoint/scan", json={"code": first["code"]}, headers=token).status_code == 200
    with app.app_context():
        with db.engine.connect() as conn:  # every other connection to this database: the app's pool
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    assert killed >= 1
    time.sleep(app.config["DB_PING_AFTER_IDLE_SECONDS"] + 0.2)
    answer = client.post("/api/v1/checkpoint/scan", json={"code": second["code"]}, headers=token)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.json["booking"]["id"] == second["id"]
