"""Who is told of checkpoint decisions (告警设置 of 预约和通行记录, seed 002 §2.7): per town
(the 3 streets and 6 towns), for the transport bureau, and who else gets the task
force's 12:00 / 18:00 summary. Recipients have the shape of ``AlertSetting.recipients``
(``[{"user_id"} | {"phone"} | {"webhook"}]``) and are validated the same way
(``app.services.rules.settings.recipients_from``).

Public functions:

* ``get_recipients(scope, town_id=None) -> list[dict]`` — the stored list (empty if none
  or inactive); ``decision_recipients(town_id)`` — a town's and the bureau's together;
* ``set_recipients(scope, recipients, town_id=None, active=True) -> CheckpointRecipients``
  — one operation, audited with before/after values; ``scope`` is ``town`` (with a
  ``town_id``), ``bureau`` or ``taskforce``. Who may call it is the caller's permission
  (the district admin and the transport bureau: resource ``CheckpointSetting``);
* ``list_settings() -> list[CheckpointRecipients]`` — one row per town, the bureau and
  the task force, created (empty) on first read;
* ``resolve(session, recipients) -> list[Recipient]`` — active users, phones, robots.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Optional

from sqlalchemy import and_, or_, select

from app.domain.errors import RuleError, ValidationFailed
from app.domain.i18n import _
from app.notify.messages import Recipient
from app.platform import audit
from app.platform.extensions import db
from app.platform.operations import transaction
from app.services.rules.alerts import recipients_of
from app.services.rules.settings import recipients_from
from models.drivers import RECIPIENTS_BUREAU, RECIPIENTS_TASKFORCE, RECIPIENTS_TOWN, CheckpointRecipients
from models.regions import Town

ENTITY = "CheckpointRecipients"
SCOPES = (RECIPIENTS_TOWN, RECIPIENTS_BUREAU, RECIPIENTS_TASKFORCE)
MSG_SCOPE = _("告警对象不正确，应为 town、bureau 或 taskforce")
MSG_TOWN = _("请选择镇街")


def _row(session, scope: str, town_id: Optional[int]) -> Optional[CheckpointRecipients]:
    stmt = select(CheckpointRecipients).where(CheckpointRecipients.scope == scope)
    stmt = stmt.where(CheckpointRecipients.town_id == town_id) if town_id is not None \
        else stmt.where(CheckpointRecipients.town_id.is_(None))
    return session.execute(stmt.order_by(CheckpointRecipients.id).limit(1)).scalar_one_or_none()


def get_recipients(scope: str, town_id: Optional[int] = None) -> list[dict[str, Any]]:
    row = _row(db.session, scope, town_id if scope == RECIPIENTS_TOWN else None)
    return list(row.recipients or []) if row is not None and row.active else []


def decision_recipients(town_id: int) -> list[dict[str, Any]]:
    """The recipients of a decision: the town's and the transport bureau's (one query)."""
    rows = db.session.execute(select(CheckpointRecipients.recipients).where(
        CheckpointRecipients.active.is_(True),
        or_(and_(CheckpointRecipients.scope == RECIPIENTS_TOWN, CheckpointRecipients.town_id == town_id),
            CheckpointRecipients.scope == RECIPIENTS_BUREAU))).scalars().all()
    return [item for recipients in rows for item in recipients or []]


def _check(session, scope: Any, town_id: Any) -> Optional[int]:
    if scope not in SCOPES:
        raise ValidationFailed([RuleError("scope", MSG_SCOPE)])
    if scope != RECIPIENTS_TOWN:
        return None
    try:
        town = session.get(Town, int(town_id))
    except (TypeError, ValueError):
        town = None
    if town is None:
        raise ValidationFailed([RuleError("town_id", MSG_TOWN)])
    return town.id


def set_recipients(scope: str, recipients: Any, town_id: Optional[int] = None,
                   active: bool = True) -> CheckpointRecipients:
    with transaction() as session:
        town_id = _check(session, scope, town_id)
        cleaned = recipients_from(session, recipients)
        row = _row(session, scope, town_id)
        before = None
        if row is None:
            row = CheckpointRecipients(scope=scope, town_id=town_id, recipients=cleaned, active=bool(active))
            session.add(row)
        else:
            before = {"recipients": row.recipients, "active": row.active}
            row.recipients, row.active = cleaned, bool(active)
        session.flush()
        audit.record("update" if before else "create", ENTITY, row.id, before=before,
                     after={"scope": scope, "town_id": town_id, "recipients": cleaned, "active": bool(active)})
    return row


def list_settings() -> list[CheckpointRecipients]:
    with transaction() as session:
        towns = session.execute(select(Town).order_by(Town.sort_order, Town.id)).scalars().all()
        wanted = [(RECIPIENTS_TOWN, t.id) for t in towns] + [(RECIPIENTS_BUREAU, None), (RECIPIENTS_TASKFORCE, None)]
        out = []
        for scope, town_id in wanted:
            row = _row(session, scope, town_id)
            if row is None:
                row = CheckpointRecipients(scope=scope, town_id=town_id, recipients=[], active=True)
                session.add(row)
            out.append(row)
        session.flush()
    return out


def resolve(session, recipients: list[dict[str, Any]]) -> list[Recipient]:
    """The recipients to address: active users (in-app inbox), phones (SMS), robots
    (webhook) — as the alert settings' (``app.services.rules.alerts.recipients_of``)."""
    return recipients_of(session, SimpleNamespace(recipients=recipients))
