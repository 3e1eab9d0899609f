"""File upload of test or vaccination records by an admin (the page of the feeds).

The file (.xlsx/.xls/.ods or .csv, UTF-8 or GB18030 as Chinese Excel saves it) is
opened safely by ``app.sheets`` (size, zip-bomb and format checks), its first visible
sheet read with the feed's header names (SPEC §9 fields or their Chinese column
names), and the rows go through the same ingest as the API (``ingest.ingest_rows``,
source "upload"). Failed rows are kept in a workbook (the feed columns plus 异常信息)
that only the uploading user can download (``app.services.imports.files``). The upload
is audited (who, file, counts) in the ingest's own transaction.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from flask import current_app

from app.domain import feed_batches, feeds
from app.domain.errors import ServiceError
from app.domain.i18n import _
from app.platform import audit
from app.services.health.feeds import ingest
from app.services.imports import files
from app.sheets import Limits, SheetError, write_failures
from app.sheets.sources import load_bytes, open_book

KINDS = (feeds.TESTS, feeds.VACCINATIONS)
SHOWN_ERRORS = 50
MSG_KIND = _("请选择数据类型：核酸检测或疫苗接种")


class UploadRefused(ServiceError):
    """The file as a whole was refused (nothing stored): 400, or 413 when too large."""

    def __init__(self, message, status: int = 400):
        super().__init__(message)
        self.status = status


def _rows(data: bytes, kind: str) -> list[tuple[int, dict]]:
    limits = Limits.from_config(current_app.config)
    try:
        book = open_book(load_bytes(data, limits), limits)
        try:
            table = next(book.tables(), None)
            if table is None:
                raise feeds.BatchError(feed_batches.MSG_CSV_EMPTY)
            return feed_batches.parse_table_rows(table.rows(), kind)
        finally:
            book.close()
    except SheetError as err:
        raise UploadRefused(err.message, 413 if err.code == "too_large" else 400) from None
    except feeds.BatchError as err:
        raise UploadRefused(err.message, err.status) from None


def failures_workbook(kind: str, rows: list[tuple[int, dict]], rejected: list[tuple[int, str]]) -> bytes:
    """The rejected rows as the feed's columns plus 异常信息."""
    fields = feeds.FIELDS[kind]
    by_number = dict(rows)
    out = []
    for number, message in rejected:
        raw = by_number.get(number)
        values = [raw.get(f) for f in fields] if isinstance(raw, dict) else [""] * len(fields)
        out.append((values, str(_("第%(n)d行：%(message)s", n=number, message=message))))
    return write_failures([str(feeds.LABELS[f]) for f in fields], out)


def ingest_upload(session, kind: str, data: bytes, filename: str, user) -> dict:
    """Ingest an uploaded file of ``kind``; returns the ingest answer plus
    ``errors_token`` (the failure workbook) and ``shown`` (the first rejected rows).
    :raise UploadRefused: nothing stored."""
    if kind not in KINDS:
        raise UploadRefused(MSG_KIND)
    name = Path(filename or "").name[:200]

    def audited(result: ingest.FeedResult) -> None:  # in the ingest's transaction
        audit.record("import", "FeedBatch", result.batch_id, rows=result.stored, detail=name, user=user,
                     after={"kind": kind, "received": result.received, "stored": result.stored,
                            "duplicates": result.duplicates, "rejected": len(result.rejected), "file": name})

    with ingest.bulk():
        rows = _rows(data, kind)
        result = ingest.ingest_rows(session, kind, rows, source="upload", user_id=getattr(user, "id", None),
                                    also=audited)
    token: Optional[str] = None
    if result.rejected:
        token, _path = files.save_failures(failures_workbook(kind, rows, result.rejected),
                                           getattr(user, "id", None), f"feed_{kind}")
    answer = result.as_dict()
    answer.update(errors_token=token, shown=answer["rejected"][:SHOWN_ERRORS])
    return answer
