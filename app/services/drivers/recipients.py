"""Who is told of checkpoint decisions (告警设置 of 预约和通行记录, seed 002 §2.7): per town
(the 3 streets and 6 towns), for the transport bureau, and who else gets the task
force's 12:00 / 18:00 summary. Recipients have the shape of ``AlertSetting.recipients``
(``[{"user_id"} | {"phone"} | {"webhook"}]``) and are validated the same way
(``app.services.rules.settings.recipients_from``).

The rows are a fixed set — one per town, the bureau's, the task force's — created
(empty, active) on first read; they are never added or deleted by hand.

:class:`CheckpointRecipientsService` is the declared resource's service
(``views/truck_ledgers.py``: pages, ``/api/v1/checkpoint_recipients/``, export). Reads
are scoped (``app.security.policies.drivers``: the district admin and the transport
bureau see every row, anyone else none); an update checks, with nothing saved when one
fails:

* ``recipients``: one per line (a user name, a mobile number, an http(s) URL) or the
  stored JSON list; a phone that is not a mobile number or a URL that is not http(s)
  is 400 with the value named;
* a user recipient the change adds must be within the editor's reach
  (``policies.rules.may_address``) or among those who may see the row (a town's row:
  that town's users); otherwise — and for a user name that does not exist, which must
  not be told apart — 400 naming it. The users the row already names stay valid (the
  bureau saves the 专班 row, naming the task force's users, unchanged);
* ``active``: whether the row's recipients are told.

Every change is audited with before/after values (the 审计日志 is its history).

Module functions, for jobs, the demo and the old ``/api/v1/checkpoint/recipients``:

* ``get_recipients(scope, town_id=None) -> list[dict]`` — the stored list (empty if none
  or inactive); ``decision_recipients(town_id)`` — a town's and the bureau's together;
* ``set_recipients(scope, recipients, town_id=None, active=True) -> CheckpointRecipients``
  — one operation, audited with before/after values, unscoped (the demo data, tests);
* ``list_settings() -> list[CheckpointRecipients]`` — every row, created on first read;
* ``resolve(session, recipients) -> list[Recipient]`` — active users, phones, robots.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Mapping, Optional

from sqlalchemy import and_, bindparam, case, or_, select

from app.domain.errors import OutOfScope, RuleError, ServiceError, ValidationFailed
from app.domain.fields import Field, clean_record
from app.domain.i18n import _
from app.notify.messages import Recipient
from app.platform import audit
from app.platform.database import insert_ignoring_duplicates
from app.platform.extensions import db
from app.platform.operations import operation, transaction
from app.security import scope as S
from app.security.policies.rules import may_address
from app.services.resources import BODY_NOT_OBJECT, ModelService
from app.services.rules.alerts import recipients_of
from app.services.rules.settings import UnknownRecipient, recipients_from, refused_users
from models.drivers import (RECIPIENTS_BUREAU, RECIPIENTS_TASKFORCE, RECIPIENTS_TOWN, TARGET_LABELS,
                            CheckpointRecipients)
from models.regions import Town
from models.users import SentinelUser

ENTITY = "CheckpointRecipients"
SCOPES = (RECIPIENTS_TOWN, RECIPIENTS_BUREAU, RECIPIENTS_TASKFORCE)
MSG_SCOPE = _("告警对象不正确，应为 town、bureau 或 taskforce")
MSG_TOWN = _("请选择镇街")


FIELDS = [
    Field("target", _("镇街/对象"), attr="target_label", form=False),
    Field("scope", _("告警对象类别"), kind="choice", form=False, list=False, filters=("eq",),
          choices=[(RECIPIENTS_TOWN, _("镇街")), *TARGET_LABELS.items()]),
    Field("town_id", _("镇街编号"), kind="int", form=False, list=False, detail=False, filters=("eq",)),
    Field("recipient_lines", _("推送人员"), kind="lines", attr="recipient_lines", form=False),
    Field("recipients", _("推送人员"), kind="json", list=False, detail=False,
          description=_("每行一个：平台用户名、手机号码（短信）或群机器人网址（http/https）")),
    Field("active", _("启用"), kind="bool", default=True, filters=("eq",)),
    Field("updated_at", _("修改时间"), kind="datetime", form=False),
]


def _order():
    """Towns in their order, then the bureau, then the task force."""
    town_order = select(Town.sort_order).where(Town.id == CheckpointRecipients.town_id).scalar_subquery()
    kind = case((CheckpointRecipients.scope == RECIPIENTS_TOWN, 0),
                (CheckpointRecipients.scope == RECIPIENTS_BUREAU, 1), else_=2)
    return (kind, town_order, CheckpointRecipients.town_id, CheckpointRecipients.id)


class CheckpointRecipientsService(ModelService):
    """告警设置 of the checkpoint: see the module docstring for what every write checks."""

    def __init__(self) -> None:
        super().__init__(CheckpointRecipients, FIELDS, entity=ENTITY, default_order=_order())

    # --- reading --------------------------------------------------------------------
    def keyword_clause(self, keyword: str):
        """A word of a town's name, or of the bureau's or the task force's label."""
        towns = select(Town.id).where(Town.name.contains(keyword, autoescape=True))
        parts = [CheckpointRecipients.town_id.in_(towns)]
        parts += [CheckpointRecipients.scope == scope for scope, label in TARGET_LABELS.items()
                  if keyword in str(label)]
        return or_(*parts)

    def page(self, session, scope: S.Scope, query):
        ensure_rows(session)
        return super().page(session, scope, query)

    def rows(self, session, scope: S.Scope) -> list[CheckpointRecipients]:
        """Every row in ``scope``, in order (created first when missing)."""
        ensure_rows(session)
        return list(session.execute(self.base_query(scope).order_by(*_order())).unique().scalars())

    # --- writing --------------------------------------------------------------------
    def audit_fields(self) -> list[str]:
        return ["scope", "town_id", "recipients", "active"]

    def clean(self, session, raw: Mapping[str, Any], current: Any = None) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            raise ServiceError(BODY_NOT_OBJECT)
        values, errors = clean_record([f for f in self.fields if f.key != "recipients"], raw,
                                      partial=current is not None, creating=current is None)
        if errors:
            raise ValidationFailed(errors)
        if "recipients" in raw or current is None:
            try:
                values["recipients"] = recipients_from(session, raw.get("recipients"))
            except UnknownRecipient as err:
                raise refused_users([err.name]) from None
        return values

    @staticmethod
    def check_reach(session, scope: S.Scope, row: CheckpointRecipients, kept: frozenset = frozenset()) -> None:
        """:raise ValidationFailed: user recipients the editor may not name for this row
        (400 naming them, nothing saved): neither within the editor's reach nor among
        those who may see the row. ``kept``: the user ids the row named before the change
        (valid as they are)."""
        seeing: Optional[frozenset] = None
        refused: list[str] = []
        for item in row.recipients or []:
            if "user_id" not in item or item["user_id"] in kept:
                continue
            user = session.get(SentinelUser, item["user_id"])
            if may_address(scope, user):
                continue
            if seeing is None:
                seeing = S.audience(session, CheckpointRecipients, row).user_ids
            if user is None or not user.active or user.id not in seeing:
                refused.append(user.username if user is not None else str(item["user_id"]))
        if refused:
            raise refused_users(refused)

    @operation
    def create(self, session, scope: S.Scope, raw: Mapping[str, Any]):  # noqa: ARG002 - the rows are fixed
        raise OutOfScope(ENTITY)

    @operation
    def update(self, session, scope: S.Scope, pk: Any, raw: Mapping[str, Any]):
        kept = frozenset(item["user_id"] for item in self.get(session, scope, pk).recipients or []
                         if "user_id" in item)
        row = super().update(session, scope, pk, raw)
        self.check_reach(session, scope, row, kept)
        return row

    @operation
    def delete_many(self, session, scope: S.Scope, ids) -> int:  # noqa: ARG002 - the rows are fixed
        return 0

    def set_for(self, session, scope: S.Scope, raw: Any) -> CheckpointRecipients:
        """``{"scope": "town"|"bureau"|"taskforce", "town_id", "recipients", "active"}``:
        the row named by its target, updated as :meth:`update` does (the old
        ``PUT /api/v1/checkpoint/recipients``). :raise ValidationFailed, OutOfScope."""
        if not isinstance(raw, Mapping):
            raise ServiceError(BODY_NOT_OBJECT)
        ensure_rows(session)
        target = raw.get("scope")
        town_id = _check(session, target, raw.get("town_id"))
        row = _row(session, target, town_id)
        if row is None:
            raise OutOfScope(ENTITY)
        return self.update(session, scope, row.id, {"recipients": raw.get("recipients"),
                                                    "active": raw.get("active", True) is not False})


def _row(session, scope: str, town_id: Optional[int]) -> Optional[CheckpointRecipients]:
    stmt = select(CheckpointRecipients).where(CheckpointRecipients.scope == scope)
    stmt = stmt.where(CheckpointRecipients.town_id == town_id) if town_id is not None \
        else stmt.where(CheckpointRecipients.town_id.is_(None))
    return session.execute(stmt.order_by(CheckpointRecipients.id).limit(1)).scalar_one_or_none()


def missing_rows(session) -> list[tuple[str, Optional[int]]]:
    """The (scope, town_id) of the fixed set that have no row yet."""
    have = {tuple(r) for r in session.execute(select(CheckpointRecipients.scope, CheckpointRecipients.town_id))}
    towns = session.execute(select(Town.id)).scalars().all()
    wanted = [(RECIPIENTS_TOWN, t) for t in towns] + [(RECIPIENTS_BUREAU, None), (RECIPIENTS_TASKFORCE, None)]
    return [key for key in wanted if key not in have]


def create_rows(session, missing: list[tuple[str, Optional[int]]]) -> int:
    """Insert the rows ``missing`` names, empty and active, in a transaction of their
    own; a row another request created meanwhile is skipped (the unique (scope, town_id)
    and, for the bureau and the task force, the unique scope where town_id is NULL;
    PostgreSQL waits for a concurrent insert and then skips). How many were inserted."""
    created = 0
    with transaction(session):
        for scope, town_id in missing:
            if town_id is None:
                stmt = insert_ignoring_duplicates(session, CheckpointRecipients, ["scope"],
                                                  index_where=CheckpointRecipients.town_id.is_(None))
            else:
                stmt = insert_ignoring_duplicates(session, CheckpointRecipients, ["scope", "town_id"])
            stmt = stmt.values(scope=scope, town_id=town_id, recipients=[], active=True)
            # the ids returned count the rows inserted (rowcount is -1 on PostgreSQL with RETURNING)
            created += len(session.execute(stmt.returning(CheckpointRecipients.id)).all())
    return created


def ensure_rows(session=None) -> None:
    """Create the missing rows of the fixed set (every town, the bureau, the task force),
    empty and active. Two first reads at once: both may find a row missing; the one
    that inserts second skips it (:func:`create_rows`), so each target keeps one row."""
    session = session if session is not None else db.session
    missing = missing_rows(session)
    if missing:
        create_rows(session, missing)


def get_recipients(scope: str, town_id: Optional[int] = None) -> list[dict[str, Any]]:
    row = _row(db.session, scope, town_id if scope == RECIPIENTS_TOWN else None)
    return list(row.recipients or []) if row is not None and row.active else []


def decision_recipients(town_id: int) -> list[dict[str, Any]]:
    """The recipients of a decision: the town's and the transport bureau's (one query)."""
    rows = db.session.connection().execute(_DECISION_RECIPIENTS, {"town_id": town_id}).scalars().all()
    return [item for recipients in rows for item in recipients or []]


def decision_recipients_clause(town_id: Any):
    """The rows of a decision's recipients: active, the town's (``town_id``: a value or
    an SQL expression) and the bureau's."""
    return and_(CheckpointRecipients.active.is_(True),
                or_(and_(CheckpointRecipients.scope == RECIPIENTS_TOWN, CheckpointRecipients.town_id == town_id),
                    CheckpointRecipients.scope == RECIPIENTS_BUREAU))


# built once (every decision runs it): building and keying a statement costs more than running it
_DECISION_RECIPIENTS = select(CheckpointRecipients.recipients).where(decision_recipients_clause(bindparam("town_id")))


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
    ensure_rows()
    return list(db.session.execute(select(CheckpointRecipients).order_by(*_order())).unique().scalars())


def resolve(session, recipients: list[dict[str, Any]]) -> list[Recipient]:
    """The recipients to address: active users (in-app inbox), phones (SMS), robots
    (webhook) — as the alert settings' (``app.services.rules.alerts.recipients_of``)."""
    return recipients_of(session, SimpleNamespace(recipients=recipients))
