"""Background imports (RQ): the job takes ids and the token of a stored upload — never
personal data — and rebuilds the user's scope from the user id.

Safe to run twice: rows are upserted (staff by enterprise + ID number, enterprises by
name + town), so a second run stores the same data. The import is one transaction, so
a worker killed mid-import leaves all of it or none of it.
"""
from __future__ import annotations

from app.platform.extensions import db
from app.platform.queue import set_progress
from app.security.scope import scope_for_user
from app.services.imports import run_import
from app.services.imports.background import errors_url
from app.services.imports.files import upload_path
from jobs.context import with_app_context
from models.users import SentinelUser


@with_app_context
def import_job(kind: str, upload_token: str, user_id: int, enterprise_id: int = 0,
               enterprise_type: str = "", dry_run: int = 0) -> dict:
    """RQ job: run the stored upload ``upload_token`` as ``kind`` for ``user_id``."""
    user = db.session.get(SentinelUser, int(user_id))
    scope = scope_for_user(user)
    result = run_import(
        db.session, scope, kind, str(upload_path(upload_token)), f"{kind}.xlsx",
        enterprise_id=enterprise_id or None, enterprise_type=enterprise_type or None,
        dry_run=bool(dry_run), progress=set_progress, user=user,
    )
    out = result.as_dict()
    out["errors_url"] = errors_url(kind, result.errors_token)
    return out
