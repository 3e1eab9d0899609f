"""Excel/CSV import of the registry: one pipeline for staff and for enterprises.

``run_import`` reads the upload (``app.sheets.read_sheet``: a refused file raises
:class:`ImportRefused`, nothing written), cleans every row with the domain cleaners the
forms use, keeps the last valid row of a repeated key (ID number in the enterprise for
staff, name + town for enterprises), and writes every valid row in ONE transaction
(Core bulk inserts and updates in batches, one commit, one audit row) — or, on a dry
run, writes nothing and reports the same counts. A staff import knows the enterprise's
stored people before reading, so its new rows go to the database while the rest of the
file is still being read (``store.InsertStream``); an enterprise import reads all rows
first, since its keys decide which stored enterprises to look up. Failed rows go to a failure workbook (the
original columns plus 异常信息) that only the importing user can download.

The upload is read once: ``open_upload`` builds the kind's importer (``kinds.py``: it
hands the importer its scope decisions and the health follow-up; ``base.Importer`` is
the interface) and reads the sheet; ``run_upload`` imports those cells — the request
path counts the rows first to decide between now and a background job. The import is
one operation (``app.platform.operations``): committed once, or rolled back whole.
"""
from __future__ import annotations

import gc
import logging
import time
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.domain.errors import Conflict, ServiceError
from app.domain.i18n import _
from app.platform import audit
from app.platform.operations import transaction
from app.services.imports import files, kinds, store
from app.services.imports.base import Importer, RowFailed
from app.services.imports.importers import MSG_EXISTS_ELSEWHERE
from app.services.imports.kinds import KINDS
from app.sheets import Limits, ParsedSheet, SheetError, check_file, read_sheet, write_failures
from app.sheets import errors as sheet_errors

__all__ = ["run_import", "run_upload", "open_upload", "Upload", "ImportResult", "ImportRefused", "check_upload",
           "KINDS"]

log = logging.getLogger(__name__)
MSG_WRITTEN_MEANWHILE = _("导入期间有其他导入或新增写入了相同的数据，本次导入未写入任何数据，请重新导入")
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
    health_job: Optional[str] = None  # the job matching many new people to health records

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("errors_file")
        return out


def _limits() -> Limits:
    return Limits.from_config(current_app.config)


@dataclass
class Upload:
    """An upload read once: its importer and its sheet (every cell loaded)."""

    kind: str
    scope: object
    filename: str
    importer: Importer
    sheet: ParsedSheet

    def count(self, stop: Optional[int] = None) -> int:
        """Data rows, counted up to just over ``stop`` (no row is cleaned)."""
        return self.sheet.rows.count(stop=stop)


def open_upload(session, scope, kind, data, filename: str = "", *, enterprise_id=None,
                enterprise_type=None) -> Upload:
    """Build the importer of ``kind`` and read ``data`` (bytes or a path) with its spec;
    raises like ``run_import`` for a refused file, an enterprise outside the scope or an
    unknown type. Nothing is written."""
    importer = kinds.importer(session, scope, kind, enterprise_id=enterprise_id, enterprise_type=enterprise_type)
    try:
        with _no_cycle_collector():
            sheet = read_sheet(data, filename, importer.spec, _limits())
        if not sheet.rows.count(stop=0):  # the header (and the example row) only: say so
            raise sheet_errors.no_rows()
    except SheetError as err:
        raise ImportRefused(err) from None
    return Upload(kind, scope, filename, importer, sheet)


def check_upload(session, scope, kind, data, *, enterprise_id=None, enterprise_type=None) -> None:
    """What can be judged of an upload without reading its cells (the enterprise's
    scope, size, format, zip bomb, encryption); raises like ``run_import``."""
    kinds.importer(session, scope, kind, enterprise_id=enterprise_id, enterprise_type=enterprise_type)
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
    :raise Conflict: rows of the same keys were stored meanwhile by another import or a
        form (409), nothing of this one written; running it again updates them.
    Any other exception rolls the whole import back and propagates.
    """
    lap = _Laps()
    upload = open_upload(session, scope, kind, data, filename, enterprise_id=enterprise_id,
                         enterprise_type=enterprise_type)
    lap("read")
    return run_upload(session, upload, dry_run=dry_run, progress=progress, user=user, lap=lap)


def run_upload(session, upload: Upload, *, dry_run: bool = False,
               progress: Optional[Callable[[int], None]] = None, user=None, lap=None) -> ImportResult:
    """Import an upload already read (``open_upload``), as ``run_import`` does: one
    transaction, committed once by the operation wrapper or rolled back whole. The
    health job of a large staff import is queued once the import is committed (the
    result's ``health_job``, set by then)."""
    with _no_cycle_collector():
        return _run(session, upload, dry_run, user, _throttled(progress), lap or _Laps())


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


def _run(session, upload: Upload, dry_run: bool, user, report, lap) -> ImportResult:
    try:
        with transaction(session):  # committed once here, or rolled back whole
            result = _import(session, upload, dry_run, user, report, lap)
    except Exception as error:
        if not _duplicate_key(error):
            raise
        # another import or form stored the same people (or enterprises) since this one read
        # what was stored (a double submit, two users at once): nothing of this one was kept
        log.warning("%s import refused: rows written meanwhile by another import", upload.kind)
        raise Conflict(MSG_WRITTEN_MEANWHILE) from None
    if not dry_run:
        lap("commit")
    report(100)
    log.info("%s import of %d rows (%d new, %d updated, %d failed): %s", upload.kind, result.total,
             result.created, result.updated, result.failed, lap)
    return result


def _duplicate_key(error: BaseException) -> bool:
    """A unique key broken by rows stored meanwhile: SQLAlchemy's IntegrityError, or the
    driver's own out of a ``COPY`` (PostgreSQL's unique_violation, SQLSTATE 23505)."""
    return isinstance(error, IntegrityError) or getattr(error, "sqlstate", None) == "23505"


def _import(session, upload: Upload, dry_run: bool, user, report, lap) -> ImportResult:
    importer, parsed = upload.importer, upload.sheet
    upload.sheet = None  # the cells are dropped as soon as this import is done with them
    result = ImportResult(dry_run=dry_run)
    failures: list[tuple[list, str]] = []
    present = importer.present_fields(parsed.present)
    with_extras = any(k.startswith("extras.") for k in parsed.present)
    # Rows below the header (a template's formatted-but-empty rows included, so early
    # progress may lag): an estimate, not another pass over 100,000 rows.
    expected = max(parsed.last_row - parsed.header_row, 1)
    # Known before reading (every row the import may update): new rows go to the
    # database while the next ones are read, the server keeping its indexes meanwhile.
    known = importer.stored(with_extras)
    streamed = known is not None
    with store.InsertStream(session, importer.table) if streamed and not dry_run else nullcontext() as stream:
        inserts = _Inserts(importer, stream, keep=not streamed and not dry_run)
        valid = _valid_rows(parsed, importer, result, failures, report, expected)
        hidden: set = set()
        if known is None:  # the keys decide which stored rows to read: all rows first
            valid = _last_of_each_key(valid, result)
            known, hidden = importer.existing([key for key, _v, _n in valid], with_extras)
        routes = _Routes(importer, known, hidden, present, inserts.add)
        for key, values, number in valid:
            routes.add(key, values, number)
        inserts.flush()
        lap("clean")
    if stream is not None:
        lap("insert end")  # the server finishing the streamed rows
    result.duplicates += routes.duplicates
    refused = routes.refused
    if refused:  # their cells, for the failure workbook: one more pass, only then
        failures.extend((row.original, refused[row.number]) for row in parsed.rows if row.number in refused)
    headers = parsed.headers
    del parsed  # the sheet's cells are not needed any more
    updates = routes.updates(dry_run)
    importer.before_write([], updates)
    result.created, result.updated, result.failed = len(routes.new), routes.stored_updates, len(failures)
    lap("match")
    if failures:
        content = write_failures(headers, failures)
        result.errors_token, path = files.save_failures(content, upload.scope.user_id, upload.kind)
        result.errors_file = str(path)
    lap("failures")
    if not dry_run:
        _write(session, importer, inserts.rows, updates, result, upload.filename, user, report, lap)
    return result


def _valid_rows(parsed, importer, result, failures, report, expected):
    """(key, cleaned values, row number) of every valid row, in file order; a failed row
    goes to ``failures`` with its message."""
    for row in parsed.rows:
        result.total += 1
        if result.total % PROGRESS_EVERY == 0:
            report(min(READ_SHARE, READ_SHARE * result.total // expected))
        try:
            key, values = importer.clean(row.values)
        except RowFailed as failed:
            failures.append((row.original, failed.message))
            continue
        yield key, values, row.number  # not the cells: 100,000 of them weigh
    report(READ_SHARE)


def _last_of_each_key(valid, result) -> list[tuple]:
    """The valid rows with only the last of each key, in the order of those last rows."""
    winners: dict = {}
    for key, values, number in valid:
        if winners.pop(key, None) is not None:
            result.duplicates += 1
        winners[key] = (values, number)
    return [(key, values, number) for key, (values, number) in winners.items()]


class _Routes:
    """Where each valid row goes. A key not seen before in the file is inserted unless
    a stored row has it (then updated); a key seen before replaces that row's values:
    the last row wins. A new key's repeated row becomes an update of the row inserted
    for it, written after the inserts. ``refuse`` may fail a key (its last row)."""

    def __init__(self, importer, known: dict, hidden: set, present: frozenset, insert: Callable[[dict], None]):
        self.importer, self.known, self.hidden, self.present = importer, known, hidden, present
        self.insert = insert
        self.new: set = set()
        self.stored: dict = {}  # key → (values, number): rows of stored keys
        self.repeats: dict = {}  # key → values: later rows of new keys
        self.refused_keys: dict = {}  # key → [number of its last row, message]
        self.duplicates = 0

    def add(self, key, values: dict, number: int) -> None:
        if key in self.new:
            self.repeats[key] = values
        elif key in self.stored:
            self.stored[key] = (values, number)
        elif key in self.refused_keys:
            self.refused_keys[key][0] = number
        else:
            refused = str(MSG_EXISTS_ELSEWHERE) if key in self.hidden else self.importer.refuse(key, self.known.get(key))
            if refused:
                self.refused_keys[key] = [number, refused]
            elif key in self.known:
                self.stored[key] = (values, number)
            else:
                self.new.add(key)
                self.insert(self.importer.insert_row(values))
            return
        self.duplicates += 1

    @property
    def refused(self) -> dict:
        """Row number → message of the refused keys' last rows."""
        return {number: message for number, message in self.refused_keys.values()}

    @property
    def stored_updates(self) -> int:
        return len(self.stored)

    def updates(self, dry_run: bool) -> list[dict]:
        """Update rows: stored keys', then (written, so found now) repeated new keys'."""
        out = []
        for key, (values, _number) in self.stored.items():
            row_id, old_extras = self.known[key]
            out.append(self.importer.update_row(values, row_id, old_extras, self.present))
        if self.repeats and not dry_run:
            written, _hidden = self.importer.existing(list(self.repeats), False)
            for key, values in self.repeats.items():
                out.append(self.importer.update_row(values, written[key][0], None, self.present))
        return out


class _Inserts:
    """New rows in batches of ``store.BATCH_SIZE``: keyed (``before_write``) and sent to
    the open ``stream``, or kept (``keep``) for one write after the matching, or only
    counted (a dry run)."""

    def __init__(self, importer, stream, keep: bool):
        self.importer, self.stream, self.keep = importer, stream, keep
        self.rows: list[dict] = []
        self._batch: list[dict] = []

    def add(self, row: dict) -> None:
        if self.stream is None and not self.keep:
            return
        self._batch.append(row)
        if len(self._batch) >= store.BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        self.importer.before_write(batch, [])
        if self.stream is not None:
            store.write_batch(self.stream, batch)
        else:
            self.rows.extend(batch)


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
    """The rows not streamed yet, the health follow-up and the audit row, in the
    import's transaction (committed by the caller, or rolled back on any error)."""
    planned = max(len(inserts) + len(updates), 1)

    def on_batch(done: int) -> None:
        report(READ_SHARE + (99 - READ_SHARE) * done // planned)

    store.upsert(session, importer.table, inserts, updates, on_batch)
    lap("write")
    importer.after_write(lambda job_id: setattr(result, "health_job", job_id))
    lap("after_write")
    audit.record(
        "import", importer.entity, importer.entity_id, rows=result.created + result.updated,
        after={"created": result.created, "updated": result.updated, "failed": result.failed,
               "total": result.total, "file": Path(filename or "").name[:200]},
        detail=Path(filename or "").name, user=user,
    )
