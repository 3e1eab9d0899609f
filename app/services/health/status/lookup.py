"""Per-person test and vaccine status, read from the per-key summary (SPEC §3).

Staff are matched to ``HealthSummary`` by an outer join on their keyed ID hash
(``Staff.id_key``, see :func:`join_summary`). Nothing here recomputes "latest test per
person" from the records: lists, counts and exports read the summary (maintained on
ingest, ``app.services.health.status.summary``); only one person's 7-day history (查看核酸)
reads ``SamplingRecord`` rows, through the (id_key, sampled_at) index.

Buckets are the rules of ``app.domain.health`` (``bucket_of`` in Python,
``bucket_range`` in SQL, both with the same window); doses follow
``app.domain.vaccines`` (dose 3 implies 2 and 1). Scope is never decided here:
every statement goes through ``app.security.scope``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Optional

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from app.domain import health as H
from app.domain import vaccines as V
from app.domain.feeds import RESULT_LABELS
from app.domain.i18n import _
from app.platform import clock, labels
from app.security import scope as S
from app.services import staff as staff_service
from app.services.paging import Page, paginate
from models.health import HealthSummary, SamplingRecord
from models.mixins import utcnow
from models.staff import Staff

DOSE_LABELS = {1: _("第一针"), 2: _("第二针"), 3: _("第三针")}
DONE = _("已接种")  # a dose implied by a later one, without a record of its own
HISTORY_LIMIT = 200  # far above what a person is sampled in 7 days


# --- configuration ----------------------------------------------------------------

def window() -> timedelta:
    """The matching window: TEST_RETENTION_DAYS (14 by default)."""
    return timedelta(days=int(current_app.config.get("TEST_RETENTION_DAYS") or H.WINDOW.days))


def bucket_label(code: str) -> str:
    return labels.text(H.BUCKET_LABELS[code])


def parse_bucket(raw: Any) -> Optional[str]:
    """A bucket code from a query string, None when absent or unknown."""
    return raw if raw in H.BUCKETS else None


# --- the join ------------------------------------------------------------------------

@dataclass(frozen=True)
class SummaryColumns:
    """The summary's columns as seen from a staff row (None where no summary matched)."""
    sampled_at: ColumnElement
    tested_at: ColumnElement
    result: ColumnElement
    institution: ColumnElement
    dose1_at: ColumnElement
    dose2_at: ColumnElement
    dose3_at: ColumnElement
    max_dose: ColumnElement
    product: ColumnElement

    NAMES = ("sampled_at", "tested_at", "result", "institution", "dose1_at", "dose2_at", "dose3_at",
             "max_dose", "product")

    def labelled(self) -> list[ColumnElement]:
        return [getattr(self, n).label(f"h_{n}") for n in self.NAMES]


# The HealthSummary attribute behind each of SummaryColumns.NAMES, in that order.
SUMMARY_ATTRIBUTES = ("last_sampled_at", "last_tested_at", "last_result", "last_institution",
                      "dose1_at", "dose2_at", "dose3_at", "max_dose", "product")


def join_summary(stmt: Select) -> tuple[Select, SummaryColumns]:
    """``stmt`` (selecting from Staff) outer-joined to each person's summary: one
    equality join on ``Staff.id_key`` (indexed on both sides). During a key rotation
    the summary stays keyed by the staff's current key and covers the records under
    both keys (``app.services.health.feeds.keys``), so no second join is needed."""
    hs = aliased(HealthSummary, name="hs")
    stmt = stmt.outerjoin(hs, hs.id_key == Staff.id_key)
    return stmt, SummaryColumns(*(getattr(hs, attribute) for attribute in SUMMARY_ATTRIBUTES))


def bucket_clause(bucket: str, now: datetime, sampled_at: ColumnElement,
                  span: Optional[timedelta] = None) -> ColumnElement[bool]:
    """SQL condition: the latest sampling time ``sampled_at`` falls in ``bucket``
    (``app.domain.health.bucket_range``; 未匹配 also takes people without a record).
    Raises KeyError for an unknown bucket."""
    start, end = H.bucket_range(bucket, now, span or window())
    if bucket == H.BUCKET_UNMATCHED:
        return or_(sampled_at.is_(None), sampled_at < end)
    parts = [sampled_at >= start]
    if end is not None:
        parts.append(sampled_at < end)
    return and_(*parts)


# --- counts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class BucketCounts:
    total: int
    counts: dict[str, int]  # bucket code → people, in H.BUCKETS order

    def items(self) -> list[tuple[str, str, int]]:
        """(code, label, count) in display order."""
        return [(code, bucket_label(code), self.counts[code]) for code in H.BUCKETS]


def bucket_counts(session, scope: S.Scope, enterprise_id: Any = None,
                  now: Optional[datetime] = None) -> BucketCounts:
    """企业总人数 and the five bucket counts of the staff in scope (of one enterprise when
    ``enterprise_id`` is given), in one query over the summary."""
    now = H.utc_naive(now or utcnow())
    span = window()
    stmt, cols = join_summary(S.apply(select(Staff.id), Staff, scope))
    if enterprise_id:
        stmt = stmt.where(Staff.enterprise_id == int(enterprise_id))
    sums = [
        func.coalesce(func.sum(case((bucket_clause(code, now, cols.sampled_at, span), 1), else_=0)), 0)
        for code in H.BUCKETS
    ]
    row = session.execute(stmt.with_only_columns(func.count(), *sums, maintain_column_froms=True)).one()
    return BucketCounts(int(row[0]), {code: int(n) for code, n in zip(H.BUCKETS, row[1:])})


# --- one row of a list ----------------------------------------------------------------

class _TestTimes:
    """Display of a test's times (``sampled_at``/``tested_at``), shared by rows and history."""

    @property
    def sampled_text(self) -> str:
        return clock.local_text(self.sampled_at)

    @property
    def tested_text(self) -> str:
        return clock.local_text(self.tested_at)

    @property
    def result_label(self) -> str:
        return labels.text(RESULT_LABELS[self.result]) if self.result in RESULT_LABELS else (self.result or "")


@dataclass(frozen=True)
class StatusRow(_TestTimes):
    """What a list row or an export line shows of a person's health."""
    sampled_at: Optional[datetime]
    tested_at: Optional[datetime]
    result: Optional[str]
    institution: Optional[str]
    dose_dates: dict[int, Optional[date]]  # recorded date per dose (None: not recorded)
    max_dose: int
    product: Optional[str]
    bucket: str

    @property
    def bucket_label(self) -> str:
        return bucket_label(self.bucket)

    @property
    def doses_done(self) -> set[int]:
        return V.doses_done([self.max_dose])

    @property
    def vaccine_label(self) -> str:
        return labels.text(V.vaccine_label([self.max_dose]))

    def dose_cell(self, dose: int) -> Optional[date | str]:
        """The export cell of a dose: its date; 已接种 when implied by a later dose
        without a record of its own; empty when not done."""
        if dose not in self.doses_done:
            return None
        return self.dose_dates.get(dose) or labels.text(DONE)


def status_row(values: dict[str, Any], now: datetime, span: timedelta) -> StatusRow:
    """A StatusRow from the ``h_*`` columns of :meth:`SummaryColumns.labelled`."""
    dates = {1: values["h_dose1_at"], 2: values["h_dose2_at"], 3: values["h_dose3_at"]}
    recorded = max([d for d, day in dates.items() if day] + [values["h_max_dose"] or 0])
    return StatusRow(
        sampled_at=values["h_sampled_at"], tested_at=values["h_tested_at"], result=values["h_result"],
        institution=values["h_institution"], dose_dates=dates, max_dose=recorded,
        product=values["h_product"], bucket=H.bucket_of(values["h_sampled_at"], now, span),
    )


@dataclass
class HealthPage(Page):
    """A page of staff with each person's StatusRow by staff id."""
    health: dict[int, StatusRow] = field(default_factory=dict)


def statuses(session, staff_ids: list[int], now: Optional[datetime] = None) -> dict[int, StatusRow]:
    """The StatusRow of each of ``staff_ids`` (rows already read through the scope)."""
    if not staff_ids:
        return {}
    now = H.utc_naive(now or utcnow())
    span = window()
    stmt, cols = join_summary(select(Staff.id).where(Staff.id.in_(staff_ids)))
    rows = session.execute(stmt.add_columns(*cols.labelled())).all()
    return {row[0]: status_row(row._mapping, now, span) for row in rows}


def list_page(session, scope: S.Scope, q: Optional[str] = None, page: int = 1, size: int = 20,
              enterprise_id: Any = None, bucket: Optional[str] = None,
              now: Optional[datetime] = None) -> HealthPage:
    """The staff list (``staff_service.query``: scope, keyword, enterprise) with each
    person's status, optionally only the people of ``bucket``; paginated in SQL.

    The page is chosen first (joining the summary only to filter by bucket), then the
    summaries of its rows are read by id: joined into the paged query, SQLite would
    look up the summary of every person in scope before sorting and cutting the page.
    """
    now = H.utc_naive(now or utcnow())
    stmt = staff_service.query(scope, q, enterprise_id)
    if bucket:
        stmt, cols = join_summary(stmt)
        stmt = stmt.where(bucket_clause(bucket, now, cols.sampled_at))
    result = paginate(session, stmt, page, size)
    health = statuses(session, [s.id for s in result.items], now)
    return HealthPage(result.items, result.total, result.page, result.size, health)


# --- one person -----------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryEntry(_TestTimes):
    sampled_at: datetime
    tested_at: Optional[datetime]
    result: str
    institution: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "sampled_at": clock.local_iso(self.sampled_at), "tested_at": clock.local_iso(self.tested_at),
            "result": self.result, "result_label": self.result_label,
            "institution": self.institution,
        }


@dataclass(frozen=True)
class PersonHealth:
    status: StatusRow
    history: list[HistoryEntry]

    unmatched_note = H.UNMATCHED_NOTE

    def doses(self) -> list[dict[str, Any]]:
        """Each dose 1–3: done (a later dose implies it), its recorded date."""
        done = self.status.doses_done
        return [
            {"dose": d, "label": labels.text(DOSE_LABELS[d]), "done": d in done,
             "date": self.status.dose_dates.get(d) if d in done else None}
            for d in V.DOSES
        ]

    def to_dict(self) -> dict[str, Any]:
        s = self.status
        return {
            "latest": {
                "sampled_at": clock.local_iso(s.sampled_at), "tested_at": clock.local_iso(s.tested_at),
                "result": s.result, "result_label": s.result_label or None, "institution": s.institution,
            },
            "bucket": {"code": s.bucket, "label": s.bucket_label},
            "history": [h.to_dict() for h in self.history],
            "vaccination": {
                "max_dose": max(s.doses_done, default=0), "label": s.vaccine_label, "product": s.product,
                "doses": [
                    {**d, "date": d["date"].isoformat() if d["date"] else None} for d in self.doses()
                ],
            },
        }


# One person's history by key(s) and time range, built once: building a statement costs
# more than running this one (an index range scan of a few rows).
_HISTORY = (
    select(SamplingRecord.sampled_at, SamplingRecord.tested_at, SamplingRecord.result, SamplingRecord.institution)
    .where(SamplingRecord.id_key.in_(bindparam("keys", expanding=True)),
           SamplingRecord.sampled_at >= bindparam("start"), SamplingRecord.sampled_at <= bindparam("end"))
    .order_by(SamplingRecord.sampled_at.desc()).limit(HISTORY_LIMIT)
)


WITH_SUMMARY = (joinedload(Staff.health_summary),)  # loader option: the person and the summary in one query


def summary_values(summary: Optional[HealthSummary]) -> dict[str, Any]:
    """The ``h_*`` values of :meth:`SummaryColumns.labelled` from one summary row
    (all None without one)."""
    return {f"h_{name}": getattr(summary, column) if summary is not None else None
            for name, column in zip(SummaryColumns.NAMES, SUMMARY_ATTRIBUTES)}


def person_health(session, staff: Staff, now: Optional[datetime] = None) -> PersonHealth:
    """Latest sampling/test and bucket (from the summary, like the lists), the 7-day
    history (查看核酸, from the records) and the doses of one person already read
    through the scope (``staff_service.read_detail`` or ``get_or_404``).

    The summary is ``staff.health_summary``, the row :func:`join_summary` joins for the
    lists: loaded with the person by a reader that passes :data:`WITH_SUMMARY`, else
    read by its primary key on first use."""
    now = H.utc_naive(now or utcnow())
    tz = clock.district_tz()
    status = status_row(summary_values(staff.health_summary), now, window())
    keys = [k for k in (staff.id_key, staff.id_key_previous) if k]
    history: list[HistoryEntry] = []
    if keys:
        records = session.execute(_HISTORY, {
            "keys": keys, "start": H.history_start(now, tz), "end": now + timedelta(minutes=10),
        }).all()
        history = [HistoryEntry(*r) for r in H.select_history(records, now, tz)]
    return PersonHealth(status, history)
