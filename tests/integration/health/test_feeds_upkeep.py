"""Upkeep of health data (SPEC §3): retention purge (PostgreSQL drops daily partitions,
SQLite deletes), ID key rotation and re-keying, and the summary rebuild."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from tests.integration import factories as F
from tests.integration.health.test_feeds_ingest import TESTS_URL, post, records_of, summary_of, tallies_of, trow

DAY = 24.0


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def partitions(app) -> set[str]:
    from app.platform.database import is_pg
    from app.services.health.feeds.partitions import existing

    return F.in_db(app, lambda s: existing(s) if is_pg(s) else set())


def purge(app, now):
    from app.services.health.feeds.retention import purge as run

    return F.in_db(app, lambda s: run(s, now))


def test_purge_removes_records_older_than_the_window_and_is_safe_twice(app, client, feed, enterprise):
    """Records sampled more than 14 days before the run are purged with their tallies; a second run purges nothing."""
    number = F.id_number()
    F.make_staff(app, enterprise, F.tag(), number)
    post(client, feed, [trow(number, 13 * DAY), trow(number, 11 * DAY), trow(number, 2)])
    assert len(records_of(app, number)) == 3 and len(tallies_of(app, number)) == 3
    result = purge(app, utcnow() + timedelta(days=2))  # the 13-day-old record is now 15 days old
    assert result["records"] >= 1
    assert len(records_of(app, number)) == 2
    assert sum(t[1] for t in tallies_of(app, number)) == 2
    assert summary_of(app, number)[1] == "negative"  # the latest is still there
    again = purge(app, utcnow() + timedelta(days=2))
    assert again["records"] == 0 and again["partitions_dropped"] == [] and again["tallies"] == 0


def test_summary_of_a_person_whose_records_all_aged_out_is_cleared(app, client, feed, enterprise):
    """When the latest sampling leaves the window the summary no longer reports it."""
    number = F.id_number()
    F.make_staff(app, enterprise, F.tag(), number)
    post(client, feed, [trow(number, 12 * DAY)])
    assert summary_of(app, number) is not None
    purge(app, utcnow() + timedelta(days=3))
    assert summary_of(app, number) is None and records_of(app, number) == []


def test_postgresql_drops_whole_daily_partitions(app, client, feed):
    """On PostgreSQL a day's partition wholly before the cutoff is dropped, not emptied row by row."""
    from app.platform.database import is_pg

    if not F.in_db(app, is_pg):
        pytest.skip("partitions exist on PostgreSQL only; SQLite deletes rows (test above)")
    number = F.id_number()
    post(client, feed, [trow(number, 12 * DAY)])
    sampled = records_of(app, number)[0][0]
    from app.domain.health import local_date
    from app.platform.clock import district_tz

    name = F.in_db(app, lambda s: f"test_record_p{local_date(sampled, district_tz()):%Y%m%d}")
    assert name in partitions(app)
    result = purge(app, utcnow() + timedelta(days=4))
    assert name in result["partitions_dropped"] and name not in partitions(app)
    assert records_of(app, number) == []


def test_rows_older_than_the_window_are_accepted_then_purged(app, client, feed):
    """A feed row already older than the window is stored (no partition made for its day) and goes at the next purge."""
    from app.domain.health import local_date
    from app.platform.clock import district_tz

    number = F.id_number()
    answer = post(client, feed, [trow(number, 30 * DAY)])
    assert answer["stored"] == 1
    day = F.in_db(app, lambda s: local_date(records_of(app, number)[0][0], district_tz()))
    assert f"test_record_p{day:%Y%m%d}" not in partitions(app)
    purge(app, utcnow())
    assert records_of(app, number) == []


@pytest.fixture
def rotated(app):
    """ID_HASH_KEY rotated for the test (old one kept as previous); restored and re-keyed afterwards."""
    from app.services.health.feeds.keys import rekey

    old = app.config["ID_HASH_KEY"], app.config.get("ID_HASH_KEY_PREVIOUS", "")

    def rotate():
        app.config["ID_HASH_KEY"], app.config["ID_HASH_KEY_PREVIOUS"] = "rotated-" + old[0], old[0]

    yield rotate
    app.config["ID_HASH_KEY"], app.config["ID_HASH_KEY_PREVIOUS"] = old
    F.in_db(app, rekey)


def test_key_rotation_keeps_matching_old_records_and_new_ones(app, client, feed, enterprise, rotated):
    """After a secret change and a rekey, staff match the records under the old key and the new key."""
    from app.services.health.feeds.keys import stale, staff_keys
    from models.staff import Staff

    number = F.id_number()
    staff_id = F.make_staff(app, enterprise, F.tag(), number)
    post(client, feed, [trow(number, 30)])
    rotated()
    assert F.in_db(app, stale) is True
    result = app.test_cli_runner().invoke(args=["health", "rekey"])
    assert result.exit_code == 0, result.output
    assert F.in_db(app, stale) is False
    keys = F.in_db(app, lambda s: s.execute(select(Staff.id_key, Staff.id_key_previous)
                                            .where(Staff.id == staff_id)).one())
    assert tuple(keys) == F.in_db(app, lambda s: staff_keys(number)) and keys[1] is not None
    assert summary_of(app, number)[1] == "negative"  # found under the previous key
    post(client, feed, [trow(number, 3, "positive")])  # keyed with the new secret
    assert summary_of(app, number)[1] == "positive"
    assert sum(t[1] for t in tallies_of(app, number)) == 2


def test_rebuild_recomputes_what_ingest_maintains(app, client, feed, enterprise):
    """The rebuild job gives the same summaries and tallies as ingest kept, and can run twice."""
    from app.services.health.status.summary import rebuild
    from models.health import HealthSummary, SamplingDaily

    number = F.id_number()
    F.make_staff(app, enterprise, F.tag(), number)
    post(client, feed, [trow(number, h) for h in (5, 29, 53)])
    post(client, feed, [{"id_number": number, "dose": 2, "vaccinated_at": "2021-06-01", "product": "A"}],
         "/api/v1/feeds/vaccinations")
    before = summary_of(app, number), tallies_of(app, number)

    def wipe(session):
        session.execute(text("DELETE FROM test_daily"))
        session.execute(text("DELETE FROM health_summary"))
        session.commit()

    F.in_db(app, wipe)
    assert summary_of(app, number) is None
    F.in_db(app, rebuild)
    F.in_db(app, rebuild)
    assert (summary_of(app, number), tallies_of(app, number)) == before
    assert F.count(app, HealthSummary) >= 1 and F.count(app, SamplingDaily) >= 3


def test_jobs_are_scheduled_and_listed(app):
    """The purge runs daily just after midnight; rebuild and key check are listed jobs too."""
    from jobs.registry import JOBS

    assert JOBS["health.purge_tests"].cron == "5 0 * * *"
    listing = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert "health.purge_tests" in listing.output and "health.rebuild_summaries" in listing.output
    keys = app.test_cli_runner().invoke(args=["health", "keys"])
    assert keys.exit_code == 0, keys.output
    # What the command reports is the database's state (other tests' staff included).
    from app.services.health.feeds.keys import fingerprints, stale

    assert json.loads(keys.output) == {**fingerprints(app.config), "stale": F.in_db(app, stale)}


def test_rebuild_runs_as_a_background_job(app, client, feed, enterprise):
    """`health rebuild --background` queues an RQ job that rebuilds the summaries and reports its result."""
    import json

    from tests.integration.platform.test_jobs import run_worker

    number = F.id_number()
    F.make_staff(app, enterprise, F.tag(), number)
    post(client, feed, [trow(number, 6)])
    out = app.test_cli_runner().invoke(args=["health", "rebuild", "--background"])
    assert out.exit_code == 0, out.output
    job_id = json.loads(out.output)["job_id"]
    run_worker(app)
    with app.app_context():
        from app.platform.extensions import db
        from models.jobs import JobRecord

        record = db.session.get(JobRecord, job_id)
        assert record.status == "finished" and record.result["keys"] >= 1
    assert summary_of(app, number)[1] == "negative"


def test_staff_imported_from_a_workbook_get_keys_and_summaries(app, client, feed, auth):
    """People bulk-imported after their tests arrived carry the ID key and are matched at once."""
    import io

    import openpyxl

    from models.staff import Staff

    admin = auth.token("admin")
    enterprise = F.make_enterprise(app, F.tag() + "导入企业")
    number = F.id_number()
    post(client, feed, [trow(number, 7)])
    template = client.get("/api/v1/staff/template?enterprise_type=port", headers=admin)
    book = openpyxl.load_workbook(io.BytesIO(template.data))
    sheet = book.active
    for col, value in enumerate(["导入一", None, number, "13576266263"], 1):
        sheet.cell(row=4, column=col, value=value)
    out = io.BytesIO()
    book.save(out)
    response = client.post("/api/v1/staff/import", headers=admin, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(out.getvalue()), "人员.xlsx"), "enterprise_id": str(enterprise)})
    assert response.status_code == 200 and response.json["created"] == 1, response.json
    key = F.in_db(app, lambda s: s.execute(select(Staff.id_key).where(Staff.enterprise_id == enterprise)).scalar_one())
    assert key and summary_of(app, number)[1] == "negative"
