"""The SQL pieces the per-person summary is built from (``summary`` holds the rules).

Set-based statements only, no ORM rows: the counts of a tally row, the staff-key ↔
record-key pairs of the keys being refreshed (``hk_pairs``, filled from ``hk_keys``),
the latest test and the doses of each of them as subqueries, an executor for raw
statements written in psycopg style, and the ``:now`` parameter.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, bindparam, text

from app.domain.health import utc_naive
from app.platform.database import is_pg

HK_KEYS = "skey VARCHAR(43) PRIMARY KEY"  # the staged staff keys of a refresh


def rotating(session) -> bool:
    """Whether any staff member carries a key under a previous secret (a rotation)."""
    return session.execute(text("SELECT 1 FROM staff WHERE id_key_previous IS NOT NULL LIMIT 1")).first() is not None


def now_param():
    """``:now``, the current instant as naive UTC (the summaries' updated_at)."""
    return bindparam("now", value=utc_naive(datetime.utcnow()), type_=DateTime)


COUNTS = ("count(*), sum(CASE WHEN {r} = 'negative' THEN 1 ELSE 0 END), "
          "sum(CASE WHEN {r} = 'positive' THEN 1 ELSE 0 END), sum(CASE WHEN {r} = 'pending' THEN 1 ELSE 0 END)")


def executor(session, now: datetime):
    """``execute(sql) -> rowcount`` through the session, for statements written in
    psycopg style (``%(now)s`` becomes the bound ``now``)."""
    def execute(sql: str) -> int:
        statement = text(sql.replace("%(now)s", ":now"))
        if ":now" in statement.text:
            statement = statement.bindparams(bindparam("now", value=now, type_=DateTime))
        return session.execute(statement).rowcount or 0
    return execute


PAIRS = ("INSERT INTO hk_pairs (skey, rkey) "
         "SELECT s.id_key, s.id_key FROM staff s JOIN hk_keys k ON k.skey = s.id_key "
         "UNION SELECT s.id_key, s.id_key_previous FROM staff s JOIN hk_keys k ON k.skey = s.id_key "
         "WHERE s.id_key_previous IS NOT NULL")


def latest_sql(session) -> str:
    """skey and the fields of its latest test record, as a subquery ``lt``. A plain join
    (not a probe per key): the planner may hash-join a large key set with one scan of
    the records, where per-key probes would visit every daily partition's index."""
    if is_pg(session):
        return ("(SELECT DISTINCT ON (p.skey) p.skey, t.sampled_at, t.tested_at, t.result, t.institution "
                " FROM hk_pairs p JOIN test_record t ON t.id_key = p.rkey "
                " ORDER BY p.skey, t.sampled_at DESC) lt")
    return ("(SELECT skey, sampled_at, tested_at, result, institution FROM ("
            " SELECT p.skey, t.sampled_at, t.tested_at, t.result, t.institution, "
            " ROW_NUMBER() OVER (PARTITION BY p.skey ORDER BY t.sampled_at DESC) AS rn "
            " FROM hk_pairs p JOIN test_record t ON t.id_key = p.rkey) x WHERE rn = 1) lt")


VACCINES = (
    "(SELECT p.skey, min(CASE WHEN v.dose = 1 THEN v.vaccinated_at END) AS d1, "
    " min(CASE WHEN v.dose = 2 THEN v.vaccinated_at END) AS d2, "
    " min(CASE WHEN v.dose = 3 THEN v.vaccinated_at END) AS d3, max(v.dose) AS md "
    " FROM hk_pairs p JOIN vaccination_record v ON v.id_key = p.rkey GROUP BY p.skey) va "
    "JOIN (SELECT skey, product FROM (SELECT p.skey, v.product, ROW_NUMBER() OVER "
    " (PARTITION BY p.skey ORDER BY v.dose DESC, v.vaccinated_at, v.identity) AS rn "
    " FROM hk_pairs p JOIN vaccination_record v ON v.id_key = p.rkey) y WHERE rn = 1) vp ON vp.skey = va.skey"
)
