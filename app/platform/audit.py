"""Audit trail: who did what, when, to which rows (SPEC §8).

:func:`record` is the one place audit rows are written, and it never keeps a full ID
number or phone: snapshots and the detail text are masked on the way in
(``app.domain.redaction``), whoever the caller is.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from flask import g, has_request_context, request
from sqlalchemy import insert

from app.domain.redaction import mask_record, mask_text
from app.platform.extensions import db
from models.audit import AuditLog
from models.mixins import utcnow


_INSERT = insert(AuditLog.__table__)


def snapshot(obj: Any, fields: Optional[list[str]] = None) -> dict[str, Any]:
    """Plain values of a model's columns, for before/after records."""
    out: dict[str, Any] = {}
    for column in obj.__table__.columns:
        if fields and column.key not in fields:
            continue
        value = getattr(obj, column.key)
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        out[column.key] = value
    return out


def record(
    action: str,
    entity: str,
    entity_id: Any = None,
    *,
    before: Optional[dict] = None,
    after: Optional[dict] = None,
    rows: Optional[int] = None,
    detail: Optional[str] = None,
    user: Any = None,
    commit: bool = False,
) -> None:
    """Write an audit row in the current transaction (``commit`` for reads and logins).

    A plain INSERT rather than an ORM object: no identity to track, no id to read back,
    and it is on every audited read (a person's detail or health, an export).
    ``before``, ``after`` and ``detail`` are stored masked (:func:`mask_record`,
    :func:`mask_text`): ID numbers and phones never reach the table in full."""
    if user is None and has_request_context():
        user = getattr(g, "user", None)
    # Core on the session's connection, one statement built once: nothing to track,
    # flush or key again (it is on every audited read and write)
    db.session.connection().execute(_INSERT, dict(
        at=utcnow(),
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", None),
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=mask_record(before),
        after=mask_record(after),
        rows=rows,
        detail=mask_text(str(detail or ""))[:500] or None,
        ip=request.remote_addr if has_request_context() else None,
    ))
    if commit:
        db.session.commit()
