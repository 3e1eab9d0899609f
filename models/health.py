"""Health feeds and the per-person summary they maintain (SPEC §3, §9).

Feed records keep the keyed hash of the normalised ID number (``app.domain.idkey``),
never the plain number nor a name. Staff carry the same key (``Staff.id_key``) and
matching is an equality join on it.

* ``SamplingRecord``: one nucleic-acid test. Unique by (sampled_at, identity) where
  ``identity`` is ``feeds.record_identity`` (record_id, else ID + sampled_at +
  institution). On PostgreSQL the table is partitioned by sampling day (range on
  ``sampled_at``); the retention purge drops whole partitions. SQLite deletes rows.
* ``VaccinationRecord``: one dose. Unique by identity (record_id, else ID + dose + day).
* ``HealthSummary``: per key, what pages and statistics read instead of recomputing
  "latest test per person" over millions of rows: latest sampling/test time and
  result, and the date of each dose. Maintained on ingest for keys that belong to
  registered staff, and for a new staff key when the staff row is written; a rebuild
  job recomputes it from the records. It also carries the key's *day bits*: which of
  its last 62 days had tests, how many (bit planes), positives and pendings — what
  period statistics read (``app.services.health.status.day_bits``).
* ``SamplingDaily``: per staff key and district calendar day, how many tests and of which
  results. Period statistics (人次, 人数, 阴性/阳性/未出结果人数) aggregate this instead
  of the raw records. Maintained on ingest like the summary.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.mixins import utcnow

KEY = String(43)  # idkey.KEY_LENGTH: base64url HMAC-SHA256
IDENTITY = String(32)  # feeds.record_identity


class SamplingRecord(Model):
    __tablename__ = "test_record"
    __table_args__ = (
        Index("ix_test_record_key_sampled", "id_key", "sampled_at"),
    )

    # Primary key (sampled_at, identity): a partitioned table's unique keys must hold
    # the partition column, and it is what makes ingest idempotent.
    sampled_at: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    identity: Mapped[str] = mapped_column(IDENTITY, primary_key=True)
    id_key: Mapped[str] = mapped_column(KEY, nullable=False)
    tested_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    result: Mapped[str] = mapped_column(String(8), nullable=False)  # feeds.RESULTS
    institution: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    received_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class VaccinationRecord(Model):
    __tablename__ = "vaccination_record"
    __table_args__ = (
        Index("ix_vaccination_record_key", "id_key", "dose"),
    )

    identity: Mapped[str] = mapped_column(IDENTITY, primary_key=True)
    id_key: Mapped[str] = mapped_column(KEY, nullable=False)
    dose: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    vaccinated_at: Mapped[date] = mapped_column(Date, nullable=False)
    product: Mapped[Optional[str]] = mapped_column(String(100))
    site: Mapped[Optional[str]] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class HealthSummary(Model):
    __tablename__ = "health_summary"
    __table_args__ = (
        Index("ix_health_summary_sampled", "last_sampled_at"),
    )

    id_key: Mapped[str] = mapped_column(KEY, primary_key=True)
    last_sampled_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    last_tested_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    last_result: Mapped[Optional[str]] = mapped_column(String(8))
    last_institution: Mapped[Optional[str]] = mapped_column(String(100))
    # Doses as recorded; "dose 3 implies 2 and 1" is applied when read (vaccines.doses_done).
    dose1_at: Mapped[Optional[date]] = mapped_column(Date)
    dose2_at: Mapped[Optional[date]] = mapped_column(Date)
    dose3_at: Mapped[Optional[date]] = mapped_column(Date)
    max_dose: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    product: Mapped[Optional[str]] = mapped_column(String(100))  # of the latest dose
    # Day bits (``app.services.health.status.day_bits``): the key's SamplingDaily rows of its last 62 days,
    # bit i = the day ``tally_day`` - i, so period statistics read one row per person.
    tally_day: Mapped[Optional[date]] = mapped_column(Date)  # the key's latest SamplingDaily day
    tests_b0: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    tests_b1: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    tests_b2: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    positive_days: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    pending_days: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class SamplingDaily(Model):
    __tablename__ = "test_daily"
    __table_args__ = (
        Index("ix_test_daily_day", "day"),
        # the rare days of 8 or more tests, which the summaries' day bits count modulo 8
        Index("ix_test_daily_many", "day", postgresql_where=text("tests >= 8"), sqlite_where=text("tests >= 8")),
    )

    id_key: Mapped[str] = mapped_column(KEY, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # district calendar day of sampling
    tests: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    negative: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    positive: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pending: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class FeedBatch(Model):
    """One feed request or upload: counts only, for admins and for replay answers."""
    __tablename__ = "feed_batch"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # feeds.TESTS / VACCINATIONS
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # api / upload
    user_id: Mapped[Optional[int]] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stored: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
