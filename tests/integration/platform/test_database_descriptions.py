"""psycopg cursors describe their results lazily (app.platform.database.install_lean_descriptions):
what a reader of ``cursor.description`` sees is what psycopg itself describes — names,
types, order — for the result it was taken from, and statements without rows have none."""
from __future__ import annotations

import pytest

from tests.conftest import TEST_DB

pytestmark = pytest.mark.skipif(TEST_DB != "postgresql", reason="psycopg's cursors only")

QUERY = "SELECT 1 AS one, 'a'::text AS letter, now() AS at, NULL::numeric(5, 2) AS amount"


def test_a_description_is_psycopgs_own_for_the_result_it_was_taken_from(app):
    import psycopg

    from app.platform.extensions import db

    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            lean = raw.driver_connection.cursor()
            lean.execute(QUERY)
            described = lean.description
            assert not isinstance(described, list)  # the lean cursor's, not psycopg's eager list
            plain = psycopg.Cursor(raw.driver_connection)
            plain.execute(QUERY)
            lean.execute("SELECT 2 AS other")  # the first result's description still describes it
            assert len(described) == 4
            assert [tuple(c) for c in described] == [tuple(c) for c in plain.description]
            assert [c.name for c in described] == ["one", "letter", "at", "amount"]
            assert [c.name for c in lean.description] == ["other"]
            lean.execute("CREATE TEMPORARY TABLE lean_t (x int)")
            assert lean.description is None
            lean.execute("SELECT x FROM lean_t")  # no rows, but a result with columns
            assert [c.name for c in lean.description] == ["x"] and lean.fetchall() == []
        finally:
            raw.close()


def test_the_apps_queries_read_rows_by_name_through_the_lean_description(app):
    from sqlalchemy import text

    from app.platform.extensions import db

    with app.app_context():
        row = db.session.execute(text(QUERY)).one()
        assert (row.one, row.letter, row.amount) == (1, "a", None) and row.at is not None
        db.session.rollback()
