"""Audit trail: who did what, when, to which rows (SPEC §8)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from flask import g, has_request_context, request

from app.extensions import db
from models.audit import AuditLog


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
) -> AuditLog:
    """Add an audit row to the current transaction (``commit`` for reads and logins)."""
    if user is None and has_request_context():
        user = getattr(g, "user", None)
    entry = AuditLog(
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", None),
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
        rows=rows,
        detail=(detail or "")[:500] or None,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    if commit:
        db.session.commit()
    return entry
