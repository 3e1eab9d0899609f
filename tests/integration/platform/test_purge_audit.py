"""Every scheduled purge leaves one audit row: action ``purge``, what was purged, how many
rows or files went, and no user (the scheduler did it)."""
from __future__ import annotations

import os
import time
import uuid

from jobs.runner import run_scheduled
from models.jobs import JobRecord
from tests.integration import factories as F
from tests.integration.health.health_factories import add_tests, ago


def only_purge(app, entity: str, since: int) -> dict:
    rows = F.audits(app, "purge", entity, since)
    assert len(rows) == 1, rows
    return rows[0]


def run(app, name: str) -> dict:
    with app.app_context():
        return run_scheduled(name)


def test_purging_old_job_records_is_audited(app):
    """maintenance.purge_jobs: one row 'purge JobRecord' with the records it deleted."""
    def add(session):
        for days in (45, 40, 1):
            session.add(JobRecord(id=uuid.uuid4().hex, kind="test", status="finished", progress=100,
                                  created_at=ago(days=days), finished_at=ago(days=days)))
        session.commit()

    F.in_db(app, add)
    since = F.last_audit_id(app)
    result = run(app, "maintenance.purge_jobs")
    assert result["deleted"] >= 2
    row = only_purge(app, "JobRecord", since)
    assert (row["rows"], row["username"], row["entity_id"]) == (result["deleted"], None, None)
    assert run(app, "maintenance.purge_jobs") == {"deleted": 0}
    assert only_purge(app, "JobRecord", row["id"])["rows"] == 0  # a run with nothing to do says so too


def test_purging_old_import_files_is_audited(app, tmp_path):
    """maintenance.purge_import_files: one row 'purge ImportFile' with the files it deleted."""
    from app.services.imports import files

    saved = app.config.get("IMPORT_DIR")
    app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    try:
        with app.app_context():
            _token, old = files.save_failures(b"old", 1, "staff")
            upload = files.save_upload(b"old")
            files.save_upload(b"new")
        day_ago = time.time() - 25 * 3600
        for path in (old, old.with_suffix(".json"), upload):
            os.utime(path, (day_ago, day_ago))
        since = F.last_audit_id(app)
        assert run(app, "maintenance.purge_import_files") == {"deleted": 3}
        row = only_purge(app, "ImportFile", since)
        assert (row["rows"], row["username"]) == (3, None)
    finally:
        app.config["IMPORT_DIR"] = saved


def test_purging_expired_attachments_is_audited(app):
    """maintenance.purge_attachments: one row 'purge Attachment' with the files it deleted."""
    from app.notify import attachments

    with app.app_context():
        root = attachments.attachments_dir()
        expired = attachments.store_attachment(b"x", "old.xlsx")
    long_ago = time.time() - (app.config["ATTACHMENT_LINK_HOURS"] + 25) * 3600
    os.utime(root / expired, (long_ago, long_ago))
    since = F.last_audit_id(app)
    result = run(app, "maintenance.purge_attachments")
    assert result["deleted"] >= 1 and not (root / expired).exists()
    row = only_purge(app, "Attachment", since)
    assert (row["rows"], row["username"]) == (result["deleted"], None)


def test_purging_test_records_past_retention_is_audited(app):
    """health.purge_tests: one row 'purge TestRecord' with the records deleted, the rest in its detail."""
    enterprise = F.make_enterprise(app, F.tag() + "保留期")
    person = F.make_staff(app, enterprise, F.tag())
    add_tests(app, person, ago(days=app.config["TEST_RETENTION_DAYS"] + 3), ago(hours=5))
    since = F.last_audit_id(app)
    result = run(app, "health.purge_tests")
    assert result["records"] >= 1
    row = only_purge(app, "TestRecord", since)
    assert (row["rows"], row["username"]) == (result["records"], None)
    assert f"tallies={result['tallies']}" in row["detail"] and "cutoff=" in row["detail"]
