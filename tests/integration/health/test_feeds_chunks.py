"""Feed requests larger than one chunk (``sampling_writer.CHUNK``, 20,000 rows in production;
2 here): chunks staged and matched with the staff while the next is cleaned, a chunk
that meets stored records merged, repeats resolved across chunks — and the summaries
and tallies the ingest kept equal those the rebuild computes from the records."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.integration import factories as F
from tests.integration.health.test_feeds_ingest import post, summary_of, tallies_of, trow


def resolved(pending: dict, result: str) -> dict:
    """The result of the same sampling as ``pending`` (same time, to the second: rows built
    later from "hours ago" could fall in the next second and be another sampling)."""
    return dict(pending, result=result, tested_at=pending["sampled_at"])


@pytest.fixture
def small_chunks(monkeypatch):
    from app.services.health.feeds import sampling_writer

    monkeypatch.setattr(sampling_writer, "CHUNK", 2)


def rebuilt(app, numbers):
    """Summaries and tallies of ``numbers`` as ingest kept them, then as the rebuild computes them."""
    from app.services.health.status.summary import rebuild

    kept = [(summary_of(app, n), tallies_of(app, n)) for n in numbers]

    def wipe(session):
        session.execute(text("DELETE FROM test_daily"))
        session.execute(text("DELETE FROM health_summary"))
        session.commit()

    F.in_db(app, wipe)
    F.in_db(app, rebuild)
    return kept, [(summary_of(app, n), tallies_of(app, n)) for n in numbers]


def test_many_chunk_request_keeps_summaries_like_the_rebuild(app, client, feed, small_chunks):
    """A request of several chunks stores every row once and keeps each person's status and day counts right."""
    enterprise = F.make_enterprise(app, F.tag() + "分块企业")
    staff = [F.id_number() for _ in range(3)]
    for number in staff:
        F.make_staff(app, enterprise, F.tag(), number)
    others = [F.id_number() for _ in range(3)]
    pending = trow(staff[1], 5, "pending")
    rows = [trow(staff[0], 50), trow(others[0], 3), trow(staff[0], 26), pending,
            trow(others[1], 7), trow(staff[2], 75, "positive"), trow(staff[0], 2), trow(others[2], 30),
            resolved(pending, "negative")]  # the last resolves the pending row four chunks earlier
    answer = post(client, feed, rows)
    assert (answer["received"], answer["stored"], answer["duplicates"]) == (9, 8, 1)
    assert summary_of(app, staff[0])[1] == "negative" and summary_of(app, staff[1])[1] == "negative"
    assert summary_of(app, staff[2])[1] == "positive"
    assert sum(t[1] for t in tallies_of(app, staff[0])) == 3
    kept, recomputed = rebuilt(app, staff)
    assert kept == recomputed


def test_many_chunk_resend_with_new_rows_merges_from_the_first_stored_record(app, client, feed, small_chunks):
    """Re-sending rows among new ones in a multi-chunk request stores only the new ones and counts them right."""
    enterprise = F.make_enterprise(app, F.tag() + "重发企业")
    staff = [F.id_number() for _ in range(2)]
    for number in staff:
        F.make_staff(app, enterprise, F.tag(), number)
    first = [trow(staff[0], 40), trow(staff[1], 30, "pending"), trow(F.id_number(), 20)]
    post(client, feed, first)
    second = [trow(staff[0], 10), trow(F.id_number(), 9), first[0], resolved(first[1], "positive"),
              trow(staff[0], 4), trow(F.id_number(), 3)]
    answer = post(client, feed, second)
    assert (answer["stored"], answer["updated"], answer["duplicates"]) == (5, 1, 1)
    assert summary_of(app, staff[1])[1] == "positive"
    assert sum(t[1] for t in tallies_of(app, staff[0])) == 3
    kept, recomputed = rebuilt(app, staff)
    assert kept == recomputed
