"""Testing-frequency rules and their alerts (告警设置 / 告警推送, SPEC §4).

* ``AlertSetting``: per enterprise type, optionally per staff category of that type, a
  rule (``app.domain.testing_rules`` code), the recipients (``[{"user_id"} | {"phone"} |
  {"webhook"}]``) and the district-time hours of the nightly check and of the alerts.
  A category's own setting wins over its type's setting without a category.
* ``ComplianceResult``: one person's result of the check of one day (rule, samplings
  counted in the window, compliant or not, latest sampling and test), kept per day so a
  past day's list reads as it was.
* ``RuleRun``: what ran for a day and setting (``evaluate``, ``alerts``; ``summary`` with
  setting 0), so the alert job knows whether today's check exists and the schedule
  whether something is still due.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.testing_rules import rule_by_name as rule_by_code
from models.enterprise_types import EnterpriseType
from models.mixins import JSONType, TimestampMixin, utcnow
from models.users import recipient_lines


class AlertSetting(TimestampMixin, Model):
    __tablename__ = "alert_setting"
    __table_args__ = (Index("ix_alert_setting_type", "type_id", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("enterprise_type.id", ondelete="CASCADE"), nullable=False)
    category: Mapped[Optional[str]] = mapped_column(String(64))  # None: every category of the type
    rule: Mapped[str] = mapped_column(String(8), nullable=False)  # testing_rules code (3d2 …)
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, nullable=False)
    check_time: Mapped[str] = mapped_column(String(5), nullable=False, default="01:00")
    alert_time: Mapped[str] = mapped_column(String(5), nullable=False, default="09:00")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    type: Mapped[EnterpriseType] = relationship(lazy="joined")

    @property
    def enterprise_type(self) -> str:
        """The type's code (what the API takes and answers)."""
        return self.type.code if self.type else ""

    def recipient_lines(self) -> list[str]:
        """The recipients as the form takes them: a user name, a phone or a URL each."""
        return recipient_lines(self, self.recipients)

    @property
    def rule_name(self) -> str:
        """The rule's name (三天两检 …) in the reader's language."""
        return str(rule_by_code(self.rule).name)

    def __repr__(self) -> str:
        return f"{self.type.name if self.type else self.type_id}{'/' + self.category if self.category else ''}"


class ComplianceResult(Model):
    __tablename__ = "compliance_result"
    __table_args__ = (
        Index("ix_compliance_result_staff", "staff_id", "day"),
        Index("ix_compliance_result_setting", "day", "setting_id", "compliant"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the district day checked
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    setting_id: Mapped[int] = mapped_column(Integer, nullable=False)
    rule: Mapped[str] = mapped_column(String(8), nullable=False)
    samplings: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    # True / False; None: registered fewer than the rule's D days ago and short of it (not judged)
    compliant: Mapped[Optional[bool]] = mapped_column(Boolean)
    last_sampled_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    last_tested_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    evaluated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class RuleRun(Model):
    __tablename__ = "rule_run"
    __table_args__ = (UniqueConstraint("day", "kind", "setting_id", name="uq_rule_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # evaluate | alerts | summary
    setting_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    people: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    broken: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    messages: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    edition: Mapped[int] = mapped_column(Integer, nullable=False, default=1)  # bumped by a deliberate re-send
    finished_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
