"""Excel/CSV import of the registry: one pipeline for staff and for enterprises.

``run_import`` reads the upload (``app.sheets.read_sheet``: a refused file raises
:class:`ImportRefused`, nothing written), cleans every row with the domain cleaners the
forms use, keeps the last valid row of a repeated key (ID number in the enterprise for
staff, name + town for enterprises), then writes every valid row in ONE transaction
(Core bulk insert/update in batches, one commit, one audit row) — or, on a dry run,
writes nothing and reports the same counts. Failed rows go to a failure workbook (the
original columns plus 异常信息) that only the importing user can download.
"""
from __future__ import annotations

import gc
import logging
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional

from flask import current_app

from app import audit
from app.services.errors import ServiceError
from app.services.imports import files, store
from app.services.imports.importers import IMPORTERS, MSG_EXISTS_ELSEWHERE, RowFailed
from app.sheets import Limits, SheetError, check_file, read_sheet, write_failures

__all__ = ["run_import", "ImportResult", "ImportRefused", "estimate_rows", "check_upload", "KINDS"]

KINDS = tuple(IMPORTERS)
log = logging.getLogger(__name__)
READ_SHARE = 70  # progress: reading and validating take 0–70 %, writing 70–99 %
PROGRESS_EVERY = 1000


class ImportRefused(ServiceError):
    """The whole file was refused (not a spreadsheet, no header, too big …): 400/413."""

    def __init__(self, err: SheetError):
        super().__init__(err.message)
        self.code = err.code
        self.status = 413 if err.code in ("too_large", "too_many_rows") else 400


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    failed: int = 0
    total: int = 0
    duplicates: int = 0  # rows superseded by a later row with the same key
    dry_run: bool = False
    errors_token: Optional[str] = None
    errors_file: Optional[str] = None

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("errors_file")
        return out


def _importer(session, scope, kind, enterprise_id, enterprise_type):
    if kind not in IMPORTERS:
        raise ValueError(f"unknown import kind {kind!r}")
    return IMPORTERS[kind](session, scope, enterprise_id=enterprise_id, enterprise_type=enterprise_type)


def _limits() -> Limits:
    return Limits.from_config(current_app.config)


def estimate_rows(session, scope, kind, data, filename, *, enterprise_id=None, enterprise_type=None,
                  stop=None) -> int:
    """Data rows of an upload, counted up to just over ``stop`` (no row is cleaned);
    raises like ``run_import`` for a refused file or an enterprise outside the scope."""
    importer = _importer(session, scope, kind, enterprise_id, enterprise_type)
    try:
        parsed = read_sheet(data, filename, importer.spec, _limits())
    except SheetError as err:
        raise ImportRefused(err) from None
    return parsed.rows.count(stop=stop)


def check_upload(session, scope, kind, data, *, enterprise_id=None, enterprise_type=None) -> None:
    """What can be judged of an upload without reading its cells (the enterprise's
    scope, size, format, zip bomb, encryption); raises like ``run_import``."""
    _importer(session, scope, kind, enterprise_id, enterprise_type)
    try:
        check_file(data, _limits())
    except SheetError as err:
        raise ImportRefused(err) from None


def _throttled(progress: Optional[Callable[[int], None]], step: int = 5) -> Callable[[int], None]:
    """``progress`` called only when the percentage moved by ``step`` (or reached 100):
    each call costs a Redis write (and a database write on PostgreSQL)."""
    if progress is None:
        return lambda _pct: None
    last = [-step]

    def report(pct: int) -> None:
        if pct - last[0] >= step or (pct == 100 and last[0] != 100):
            last[0] = pct
            progress(pct)

    return report


def run_import(session, scope, kind: str, data, filename: str = "", *, enterprise_id=None,
               enterprise_type=None, dry_run: bool = False,
               progress: Optional[Callable[[int], None]] = None, user=None) -> ImportResult:
    """Import ``data`` (bytes or a path) as ``kind`` ("staff" | "enterprise").

    Staff need ``enterprise_id`` (in scope); enterprises take an optional
    ``enterprise_type`` (code or name) used when a row names no 主体类型.
    ``progress(pct)`` is called now and then with 0–100.

    :raise OutOfScope: the enterprise is not the user's (404), nothing written.
    :raise ImportRefused: the file as a whole is refused (400/413), nothing written.
    :raise ServiceError: unknown enterprise type (400).
    Any other exception rolls the whole import back and propagates.
    """
    with _no_cycle_collector():
        return _run(session, scope, kind, data, filename, enterprise_id, enterprise_type, dry_run, progress, user)


@contextmanager
def _no_cycle_collector():
    """The cycle collector paused while 100,000 rows of dicts are built: each of its
    passes walks every live object (the whole app too), several times per import.
    Nothing here makes reference cycles; reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(session, scope, kind, data, filename, enterprise_id, enterprise_type, dry_run, progress, user):
    report = _throttled(progress)
    lap = _Laps()
    importer = _importer(session, scope, kind, enterprise_id, enterprise_type)
    try:
        parsed = read_sheet(data, filename, importer.spec, _limits())
    except SheetError as err:
        raise ImportRefused(err) from None
    lap("read")
    result = ImportResult(dry_run=dry_run)
    winners: dict = {}
    failures: list[tuple[list, str]] = []
    # Rows below the header (a template's formatted-but-empty rows included, so early
    # progress may lag): an estimate, not another pass over 100,000 rows.
    expected = max(parsed.last_row - parsed.header_row, 1)
    for row in parsed.rows:
        result.total += 1
        try:
            key, values = importer.clean(row.values)
        except RowFailed as failed:
            failures.append((row.original, failed.message))
            continue
        if winners.pop(key, None) is not None:
            result.duplicates += 1
        winners[key] = (values, row.number)  # not the cells: 100,000 of them weigh
        if result.total % PROGRESS_EVERY == 0:
            report(min(READ_SHARE, READ_SHARE * result.total // expected))
    report(READ_SHARE)
    lap("clean")

    present = parsed.present
    if hasattr(importer, "present_fields"):
        present = importer.present_fields(present)
    with_extras = any(k.startswith("extras.") for k in parsed.present)
    existing, hidden = importer.existing(list(winners), with_extras)
    inserts, updates, refused_rows = [], [], {}
    for key in list(winners):  # popped one by one: a row's values become its write
        values, number = winners.pop(key)
        refused = str(MSG_EXISTS_ELSEWHERE) if key in hidden else importer.refuse(key, existing.get(key))
        if refused:
            refused_rows[number] = refused
        elif key in existing:
            row_id, old_extras = existing[key]
            updates.append(importer.update_row(values, row_id, old_extras, present))
        else:
            inserts.append(importer.insert_row(values))
    if refused_rows:  # their cells, for the failure workbook: one more pass, only then
        failures.extend((row.original, refused_rows[row.number]) for row in parsed.rows
                        if row.number in refused_rows)
    if hasattr(importer, "before_write"):
        importer.before_write(inserts, updates)
    result.created, result.updated, result.failed = len(inserts), len(updates), len(failures)
    headers = parsed.headers
    del parsed  # the sheet's cells are not needed while writing
    lap("match")

    if failures:
        content = write_failures(headers, failures)
        result.errors_token, path = files.save_failures(content, scope.user_id, kind)
        result.errors_file = str(path)
    lap("failures")

    if not dry_run:
        _write(session, importer, inserts, updates, result, filename, user, report, lap)
    report(100)
    log.info("%s import of %d rows (%d new, %d updated, %d failed): %s", kind, result.total, result.created,
             result.updated, result.failed, lap)
    return result


class _Laps:
    """Seconds per phase of an import, for the log line (``read 0.71 s, clean 0.52 s …``)."""

    def __init__(self):
        self.laps: list[tuple[str, float]] = []
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.laps.append((name, now - self._last))
        self._last = now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.laps)


def _write(session, importer, inserts, updates, result, filename, user, report, lap=lambda _name: None) -> None:
    """All rows and the audit row in one transaction; rolled back on any error."""
    planned = max(len(inserts) + len(updates), 1)

    def on_batch(done: int) -> None:
        report(READ_SHARE + (99 - READ_SHARE) * done // planned)

    try:
        store.upsert(session, importer.table, inserts, updates, on_batch)
        lap("write")
        if hasattr(importer, "after_write"):
            importer.after_write(session, inserts, updates)
            lap("after_write")
        audit.record(
            "import", importer.entity, importer.entity_id, rows=result.created + result.updated,
            after={"created": result.created, "updated": result.updated, "failed": result.failed,
                   "total": result.total, "file": Path(filename or "").name[:200]},
            detail=Path(filename or "").name, user=user,
        )
        session.commit()
        lap("commit")
    except BaseException:
        session.rollback()
        raise
