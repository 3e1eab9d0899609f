"""Truck drivers at the checkpoints (货车司机管理, SPEC §5, seed 002).

* ``Booking`` (预约): what a driver submits on the public page — name, ID number, phone,
  plate, origin, destination town and address, expected arrival, company — and what the
  platform matched at booking time: the freight enterprise (and its staff row) the
  driver belongs to, if any. ``scope_town_id`` is the town that sees the booking: the
  driver's enterprise's town, else the destination town (SPEC §5; the scope policy in
  ``app.security.policies.drivers`` reads it; the transport bureau sees every booking
  through ``freight_type_id``). ID number and phone are sealed at rest
  (``models.sealed``) and found by their keyed hashes (``id_key``, ``phone_key``).
* ``Passenger`` (乘车人): name, ID number, phone of the people in the truck (sealed).
* ``BookingImage``: an uploaded health-information image; the file lives in the
  instance folder (``<instance>/booking_images/``), never under the web root, and is
  served only to those who may see the booking.
* ``Pass`` (通行码): one per booking. The QR carries a signed token
  (``app.domain.pass_tokens``) naming ``token_id`` and ``key_id``; ``state`` is
  ``pending`` until the first decision, which sets ``allowed`` or ``denied`` in one
  conditional UPDATE (``app.services.checkpoint.decide``). ``expired`` is what a
  pending pass past ``expires_at`` shows (``effective_state``); it is never a reason
  to write.
* ``CheckpointRecipients`` (告警设置 of the 货车司机 module): who is told of decisions —
  per town (the 3 streets and 6 towns) and for the transport bureau — and who receives
  the 12:00 / 18:00 summary (the task force), in the shape of ``AlertSetting.recipients``
  (``[{"user_id"} | {"phone"} | {"webhook"}]``).
* ``CheckpointSummaryRun``: one row per summary period sent, so a retried job does not
  send it again.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.i18n import _

from models.enterprises import Enterprise
from models.mixins import JSONType, TimestampMixin, utcnow
from models.regions import Town
from models.sealed import Sealed
from models.users import recipient_lines

# Pass states (codes; labels in app.domain.pass_tokens.STATE_LABELS)
PENDING, ALLOWED, DENIED, EXPIRED = "pending", "allowed", "denied", "expired"
PASS_STATES = (PENDING, ALLOWED, DENIED, EXPIRED)

# CheckpointRecipients.scope
RECIPIENTS_TOWN, RECIPIENTS_BUREAU, RECIPIENTS_TASKFORCE = "town", "bureau", "taskforce"
# what a row that is no town's is shown as (a town's row: the town's name)
TARGET_LABELS = {RECIPIENTS_BUREAU: _("区住房和城乡建设局（区交通运输局）"), RECIPIENTS_TASKFORCE: _("专班（每日汇总）")}


class Booking(TimestampMixin, Model):
    __tablename__ = "booking"
    __table_args__ = (
        Index("ix_booking_id_key", "id_key"),
        Index("ix_booking_phone_key", "phone_key", "created_at"),
        Index("ix_booking_scope_town", "scope_town_id", "created_at"),
        Index("ix_booking_enterprise", "enterprise_id", "created_at"),
        Index("ix_booking_plate", "plate_number"),
        Index("ix_booking_arrival", "expected_arrival"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    driver_name: Mapped[str] = mapped_column(String(64), nullable=False)
    id_type: Mapped[str] = mapped_column(String(32), nullable=False, default="居民身份证")
    id_number: Mapped[str] = mapped_column(Sealed("booking.id_number", index="id_key"), nullable=False)
    id_key: Mapped[Optional[str]] = mapped_column(String(43))
    phone: Mapped[str] = mapped_column(Sealed("booking.phone", index="phone_key"), nullable=False)
    phone_key: Mapped[Optional[str]] = mapped_column(String(43))
    plate_number: Mapped[str] = mapped_column(String(16), nullable=False)
    origin: Mapped[str] = mapped_column(String(200), nullable=False)
    destination_town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), nullable=False)
    destination_address: Mapped[str] = mapped_column(String(300), nullable=False)
    expected_arrival: Mapped[datetime] = mapped_column(DateTime, nullable=False)  # naive UTC
    company: Mapped[Optional[str]] = mapped_column(String(200))
    # Matched against the freight enterprises' staff (by id_key) at booking and at scan.
    enterprise_id: Mapped[Optional[int]] = mapped_column(ForeignKey("enterprise.id", ondelete="SET NULL"))
    staff_id: Mapped[Optional[int]] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    # The town that sees the booking: the enterprise's town, else the destination town.
    scope_town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), nullable=False)
    # The freight enterprise type (FREIGHT_TYPE_CODE) at booking time: its bureau (the
    # transport bureau) sees every booking, whoever the driver works for.
    freight_type_id: Mapped[Optional[int]] = mapped_column(ForeignKey("enterprise_type.id", ondelete="SET NULL"))
    client_address: Mapped[Optional[str]] = mapped_column(String(64))

    destination_town: Mapped[Town] = relationship(foreign_keys=[destination_town_id], lazy="joined")
    enterprise: Mapped[Optional[Enterprise]] = relationship(foreign_keys=[enterprise_id], lazy="joined")
    passengers: Mapped[list["Passenger"]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="Passenger.id")
    images: Mapped[list["BookingImage"]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingImage.id")
    pass_: Mapped[Optional["Pass"]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", uselist=False, lazy="joined")

    @property
    def enterprise_driver(self) -> bool:
        return self.enterprise_id is not None

    @property
    def state(self) -> str:
        """The pass's state code as a reader sees it now (``expired`` when pending past expiry)."""
        return self.pass_.effective_state() if self.pass_ is not None else EXPIRED

    def __repr__(self) -> str:
        return f"{self.plate_number} {self.driver_name}"


class Passenger(Model):
    __tablename__ = "booking_passenger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    id_type: Mapped[str] = mapped_column(String(32), nullable=False, default="居民身份证")
    id_number: Mapped[str] = mapped_column(Sealed("booking_passenger.id_number", index="(none)"), nullable=False)
    phone: Mapped[Optional[str]] = mapped_column(Sealed("booking_passenger.phone", index="(none)"))

    booking: Mapped[Booking] = relationship(back_populates="passengers")

    def __repr__(self) -> str:
        return self.name


class BookingImage(Model):
    __tablename__ = "booking_image"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), nullable=False, index=True)
    stored_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)  # random, under the instance
    content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    original_name: Mapped[Optional[str]] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    booking: Mapped[Booking] = relationship(back_populates="images")


class Pass(Model):
    __tablename__ = "booking_pass"
    __table_args__ = (
        Index("ix_booking_pass_decided", "state", "decided_at"),
        Index("ix_booking_pass_expires", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), nullable=False, unique=True)
    token_id: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    key_id: Mapped[str] = mapped_column(String(32), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)  # naive UTC
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING)
    decided_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    # the deciding user's id, as the audit log and review steps name users: no foreign key,
    # whose check would lock the checkpoint user's row in every decision (KEY SHARE: the
    # checkpoints deciding at once would queue on one row)
    decided_by: Mapped[Optional[int]] = mapped_column(Integer)
    reason: Mapped[Optional[str]] = mapped_column(String(200))
    checkpoint: Mapped[Optional[str]] = mapped_column(String(100))  # the deciding user's name
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    booking: Mapped[Booking] = relationship(back_populates="pass_")

    def effective_state(self, now: Optional[datetime] = None) -> str:
        if self.state == PENDING and self.expires_at <= (now or utcnow()):
            return EXPIRED
        return self.state


# The row of a target that is no town (the bureau's, the task force's) is one per scope:
# the unique (scope, town_id) does not hold where town_id is NULL (NULLs are distinct).
NO_TOWN = text("town_id IS NULL")


class CheckpointRecipients(TimestampMixin, Model):
    __tablename__ = "checkpoint_recipients"
    __table_args__ = (
        UniqueConstraint("scope", "town_id", name="uq_checkpoint_recipients"),
        Index("uq_checkpoint_recipients_no_town", "scope", unique=True, postgresql_where=NO_TOWN,
              sqlite_where=NO_TOWN),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)  # town | bureau | taskforce
    town_id: Mapped[Optional[int]] = mapped_column(ForeignKey("town.id", ondelete="CASCADE"))  # scope town only
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    town: Mapped[Optional[Town]] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return self.town.name if self.town else self.scope

    def target_label(self) -> str:
        """镇街/对象: the town's name, or the bureau's or the task force's label."""
        return self.town.name if self.town else str(TARGET_LABELS.get(self.scope, self.scope))

    def recipient_lines(self) -> list[str]:
        """The recipients as the form takes them: a user name, a phone or a URL each."""
        return recipient_lines(self, self.recipients)


class CheckpointSummaryRun(Model):
    __tablename__ = "checkpoint_summary_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_end: Mapped[datetime] = mapped_column(DateTime, nullable=False, unique=True)  # naive UTC
    period_start: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    passed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    denied: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    messages: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    finished_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
