"""The security events the district admin reads (系统管理 → 安全事件): filters and pages.

Newest first; filtered by kind, by user (the signed-in user's name or the account an
attempt named, exactly) and by a range of district calendar days (``TIMEZONE``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select

from app.domain.health import local_midnight_utc
from app.platform.security_events import KINDS
from app.services.paging import Page, paginate
from models.security_events import SecurityEvent


@dataclass(frozen=True)
class Filters:
    kind: Optional[str] = None
    user: Optional[str] = None
    start: Optional[date] = None  # district days, both included
    end: Optional[date] = None

    def args(self) -> dict[str, str]:
        """The filters as query arguments (for the pager's links)."""
        values = {"kind": self.kind, "user": self.user,
                  "start": self.start and self.start.isoformat(), "end": self.end and self.end.isoformat()}
        return {k: v for k, v in values.items() if v}


def _day(raw: Any) -> Optional[date]:
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def parse_filters(args: Mapping[str, Any]) -> Filters:
    """Filters from a query string; an unknown kind or a malformed day is no filter."""
    kind = args.get("kind")
    user = str(args.get("user") or "").strip()[:128]
    return Filters(kind if kind in KINDS else None, user or None, _day(args.get("start")), _day(args.get("end")))


def query(filters: Filters, tz: ZoneInfo) -> Select:
    stmt = select(SecurityEvent).order_by(SecurityEvent.id.desc())
    if filters.kind:
        stmt = stmt.where(SecurityEvent.kind == filters.kind)
    if filters.user:
        stmt = stmt.where(or_(SecurityEvent.username == filters.user, SecurityEvent.account == filters.user))
    if filters.start:
        stmt = stmt.where(SecurityEvent.at >= local_midnight_utc(filters.start, tz))
    if filters.end:
        stmt = stmt.where(SecurityEvent.at < local_midnight_utc(filters.end + timedelta(days=1), tz))
    return stmt


def list_page(session, filters: Filters, tz: ZoneInfo, page: int, size: int) -> Page:
    return paginate(session, query(filters, tz), page, size)
