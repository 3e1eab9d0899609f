"""Bulk upserts of validated rows, all in the caller's one transaction.

SQLAlchemy Core ``executemany`` in batches of ``BATCH_SIZE``: no ORM objects, no
per-row commit. The caller commits once after every batch has run, or rolls back
when anything raised, so a crash leaves none of the import.
"""
from __future__ import annotations

from typing import Callable, Iterable, Optional

from sqlalchemy import bindparam, insert, update

BATCH_SIZE = 2000


def _write_batch(session, statement, rows: list[dict]) -> None:
    """One executemany; module-level so a test can make it fail after the first batch."""
    session.execute(statement, rows)


def _batches(rows: list[dict]) -> Iterable[list[dict]]:
    for start in range(0, len(rows), BATCH_SIZE):
        yield rows[start:start + BATCH_SIZE]


def _by_shape(rows: list[dict]) -> dict[tuple, list[dict]]:
    """Rows grouped by their key set: one executemany needs identical keys."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return groups


def upsert(session, table, inserts: list[dict], updates: list[dict],
           progress: Optional[Callable[[int], None]] = None) -> None:
    """Insert ``inserts`` and update ``updates`` (each carrying ``row_id``, the row's
    primary key) in ``table``; ``progress(done_rows)`` after each batch."""
    done = 0
    for batch in _batches(inserts):
        _write_batch(session, insert(table), batch)
        done += len(batch)
        if progress:
            progress(done)
    for rows in _by_shape(updates).values():
        statement = update(table).where(table.c.id == bindparam("row_id"))
        for batch in _batches(rows):
            _write_batch(session, statement, batch)
            done += len(batch)
            if progress:
                progress(done)
