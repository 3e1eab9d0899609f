"""Sealed staff values moved to the current data key, after a ``DATA_KEY`` rotation.

Every sealed value names the key that sealed it (``app.domain.sealing``). After the
operator sets a new ``DATA_KEY`` and keeps the old one as ``DATA_KEY_PREVIOUS``,
values are still opened with the key they name, and ``reencrypt`` re-seals the ones
under any other key with the current one, in batches of ``batch`` rows, each batch
committed: safe to stop and run again, and a second run finds nothing to do. A row
changed by the app between the read and the write of its batch is left alone (the
write is conditional on the sealed values read) and sealed under the current key
by that change anyway. ``key_counts`` says how many values each key still seals:
once the previous key seals none, ``DATA_KEY_PREVIOUS`` can go.

The blind indexes (``id_key``, ``phone_key``) depend on ``ID_HASH_KEY`` alone and do
not change here.
"""
from __future__ import annotations

import logging
from typing import Callable, Optional

from sqlalchemy import Integer, String, and_, bindparam, column, func, literal_column, or_, select, table

from app.platform.data_keys import keyring
from app.domain.sealing import SCHEME, KEY_ID_LENGTH
from app.platform.operations import transaction

log = logging.getLogger(__name__)

BATCH = 2000
COLUMNS = ("id_number", "phone")  # staff's sealed columns; the associated data is "staff.<name>"
_PREFIX_LENGTH = len(SCHEME) + 1 + KEY_ID_LENGTH + 1  # "gcm1:<key id>:"
# The stored text, not the sealed type: sealed values are compared as they are stored.
_staff = table("staff", column("id", Integer), *(column(name, String) for name in COLUMNS))


def _key_of(col):
    """The key id of a stored value, in SQL (literal positions: GROUP BY must repeat them)."""
    return func.substr(col, literal_column(str(len(SCHEME) + 2)), literal_column(str(KEY_ID_LENGTH)))


def key_counts(session) -> dict[str, dict[str, int]]:
    """Per sealed column: key id → how many values that key sealed."""
    out = {}
    for name in COLUMNS:
        col = _staff.c[name]
        rows = session.execute(select(_key_of(col), func.count()).where(col.is_not(None)).group_by(_key_of(col)))
        out[name] = {key: count for key, count in rows}
    return out


def reencrypt(session, batch: int = BATCH, progress: Optional[Callable[[int], None]] = None) -> dict:
    """Re-seal every staff value not sealed by the current key. Returns
    ``{"current", "rows", "values"}``: the current key id, rows and values rewritten."""
    ring = keyring()
    prefix = f"{SCHEME}:{ring.current_id}:"
    opened = {n: ring.opener(f"staff.{n}".encode()) for n in COLUMNS}
    sealed = {n: ring.sealer(f"staff.{n}".encode()) for n in COLUMNS}
    stale = or_(*(and_(_staff.c[n].is_not(None), func.substr(_staff.c[n], 1, _PREFIX_LENGTH) != prefix)
                  for n in COLUMNS))
    unchanged = and_(*(_staff.c[n].is_not_distinct_from(bindparam(f"old_{n}", type_=String)) for n in COLUMNS))
    update = (_staff.update().where(_staff.c.id == bindparam("row_id"), unchanged)
              .values({n: bindparam(f"new_{n}") for n in COLUMNS}))
    last_id, rows_done, values_done = 0, 0, 0
    while True:
        rows = session.execute(select(_staff).where(_staff.c.id > last_id, stale).order_by(_staff.c.id)
                               .limit(batch)).all()
        if not rows:
            break
        params = []
        for row in rows:
            values = {"row_id": row.id}
            for n in COLUMNS:
                old = getattr(row, n)
                current = old is None or old.startswith(prefix)
                values.update({f"old_{n}": old, f"new_{n}": old if current else sealed[n](opened[n](old))})
                values_done += 0 if current else 1
            params.append(values)
        with transaction(session):  # each batch its own operation: a stop keeps what is done
            session.execute(update, params)
        last_id, rows_done = rows[-1].id, rows_done + len(rows)
        if progress:
            progress(rows_done)
    result = {"current": ring.current_id, "rows": rows_done, "values": values_done}
    log.info("staff values re-sealed under the current data key: %s", result)
    return result
