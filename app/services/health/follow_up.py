"""The health data's side of a bulk staff write (the registry import), in one place.

``staff_import(session, enterprise_id, user_id)`` is the one entry: the registry asks
for it once per import and gets back what it needs of the health package —

* ``key`` / ``previous_key``: the ID-key functions (current and previous secret) the
  import keys its rows by (``keys.keyers``);
* ``key_rows(inserts, updates)``: the keys of rows about to be written in bulk (no
  mapper event sees a COPY / executemany: ``keys.row_keys``);
* ``after_write(queued)``: once every row is written, the summaries of the new people
  whose keys have records — in the import's transaction for up to ``INLINE_MATCH`` new
  people, else by the job ``jobs.health.match_new_staff`` queued once the import is
  committed (matching scans the record tables: seconds at 100,000 people), its id
  handed to ``queued``. If Redis cannot take it the people stay stored and the weekly
  rebuild matches them.
"""
from __future__ import annotations

import logging
from typing import Callable, Optional

from sqlalchemy import func, select

from app.platform.operations import after_commit
from app.platform.queue import enqueue
from app.services.health.feeds import keys
from app.services.health.status import summary
from models.staff import Staff

INLINE_MATCH = 2000  # new people matched to health records in the import's transaction
MATCH_JOB = "jobs.health.match_new_staff"
log = logging.getLogger(__name__)


class StaffImport:
    """See the module docstring."""

    def __init__(self, session, enterprise_id: int, user_id: Optional[int]):
        self.session, self.enterprise_id, self.user_id = session, enterprise_id, user_id
        self.key, self.previous_key = keys.keyers()
        # Every row this import adds gets a higher id: the new people are those above.
        self.last_id = session.execute(select(func.max(Staff.id))).scalar() or 0
        self.inserted = 0

    def key_rows(self, inserts: list[dict], updates: list[dict]) -> None:
        """A new row's previous-secret ID key and phone key (its ``id_key`` it has);
        an update's phone key (it keeps its ID number and ID keys)."""
        keys.row_keys(inserts)
        keys.row_keys(updates)
        self.inserted += len(inserts)

    def after_write(self, queued: Callable[[Optional[str]], None]) -> None:
        """Match the new people now, or queue the matching for after the commit."""
        if 0 < self.inserted <= INLINE_MATCH:
            summary.refresh_new_staff(self.session, self.enterprise_id, self.last_id)
        elif self.inserted > INLINE_MATCH:
            after_commit(lambda: queued(self._queue()), self.session)

    def _queue(self) -> Optional[str]:
        try:
            return enqueue(MATCH_JOB, self.enterprise_id, self.last_id,
                           job_kind="health.match_new_staff", user_id=self.user_id)
        except Exception:  # noqa: BLE001 - the people are stored; the weekly rebuild matches them
            log.exception("could not queue the health matching of %d imported people", self.inserted)
            return None


def staff_import(session, enterprise_id: int, user_id: Optional[int]) -> StaffImport:
    """The health follow-up of one staff import into ``enterprise_id`` (see above)."""
    return StaffImport(session, enterprise_id, user_id)
