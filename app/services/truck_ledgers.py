"""The ledgers of 货车司机管理 (seed 002 §2.5–2.7) as declared-resource services.

* :class:`TruckDriverService` — 货车司机台账: the staff of freight enterprises
  (``FREIGHT_TYPE_CODE``, configuration), scoped like staff; read only here (drivers are entered
  through the registry: 员工管理, 导入); each driver's pass history (:func:`pass_history`).
* :class:`BookingRecordService` — 预约和通行记录: bookings in the caller's scope with the
  filters of the manual (arrival day, town, 已通行 / 未通行 / 不予通行, plate, name), each
  booking's detail (基本信息, 乘车人信息) audited; the export's columns (:func:`booking_export`).

Bookings are written by app.services.drivers only; nothing here writes.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from typing import Any, Mapping, Optional

from flask import current_app
from sqlalchemy import and_, or_, select

from app.domain import checkpoint as C
from app.domain.errors import OutOfScope, ServiceError
from app.domain.fields import Field, row_id
from app.domain.i18n import _
from app.domain.identity import mask_id, mask_phone
from app.platform.clock import day_bounds_utc, local_text
from app.platform.operations import operation
from app.security import scope as S
from app.services import exports
from app.services import staff as staff_service
from app.services.drivers.bookings import state_clause
from app.services.listing import ListQuery
from app.services.resources import ModelService, json_value
from models.drivers import Booking, Pass
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.regions import Town
from models.staff import Staff



def freight_type_code() -> str:
    """The code of the freight enterprise type (``FREIGHT_TYPE_CODE``, default 货运企业's)."""
    return current_app.config["FREIGHT_TYPE_CODE"]

# --- 货车司机台账 -------------------------------------------------------------------------

DRIVER_FIELDS = [
    Field("enterprise_id", _("企业编号"), kind="int", filters=("eq",), list=False, detail=False, form=False),
    Field("enterprise_name", _("所属企业"), attr="enterprise.name", form=False),
    Field("town", _("所属镇街"), attr="enterprise.town.name", form=False),
    Field("name", _("姓名"), filters=("eq", "ct", "sw"), sortable=True, form=False),
    Field("id_number", _("身份证号码"), mask="id", form=False),
    Field("phone", _("手机号码"), mask="phone", form=False),
    Field("category", _("人员类别"), form=False),
    Field("address", _("居住地址"), list=False, form=False),
]


def freight_enterprise_ids():
    """The ids of the enterprises of the freight type (a subquery)."""
    return (select(Enterprise.id).join(EnterpriseType, EnterpriseType.id == Enterprise.type_id)
            .where(EnterpriseType.code == freight_type_code()))


def freight_type_id(session) -> Optional[int]:
    return session.execute(select(EnterpriseType.id).where(EnterpriseType.code == freight_type_code())).scalar()


class TruckDriverService(ModelService):
    """Staff of freight enterprises in the caller's scope (the registry's staff scope);
    a person of another type is 404 here. Detail reads are audited like staff."""

    def __init__(self) -> None:
        super().__init__(Staff, DRIVER_FIELDS, entity="Staff", personal=True)

    def base_query(self, scope: S.Scope):
        return S.apply(select(Staff), Staff, scope).where(Staff.enterprise_id.in_(freight_enterprise_ids()))

    def keyword_clause(self, keyword: str):
        return staff_service.keyword_clause(keyword)

    def get(self, session, scope: S.Scope, pk: Any):
        wanted = row_id(pk)
        if wanted is None:
            raise OutOfScope("Staff", pk)
        row = session.execute(self.base_query(scope).where(Staff.id == wanted)).unique().scalar_one_or_none()
        if row is None:
            raise OutOfScope("Staff", pk)
        return row


def pass_history(session, scope: S.Scope, staff_id: int, limit: int = 100) -> list[Booking]:
    """The bookings matched to this driver (newest first) that the caller may see."""
    stmt = (S.apply(select(Booking), Booking, scope).where(Booking.staff_id == staff_id)
            .order_by(Booking.created_at.desc(), Booking.id.desc()).limit(limit))
    return list(session.execute(stmt).unique().scalars())


# --- 预约和通行记录 -----------------------------------------------------------------------

PASSED, NOT_PASSED, DENIED = "passed", "not_passed", "denied"
# the phone's 未通行 (seed 002 §2.3: two tabs, 已通行 / 未通行): not let through, refusals included
NOT_THROUGH = "not_through"
STATUS_FILTER = ((PASSED, _("已通行")), (NOT_PASSED, _("未通行")), (DENIED, _("不予通行")))
STATE_CHOICES = tuple((code, _(label)) for code, label in C.STATE_LABELS.items())


def _towns():
    from app.platform.extensions import db

    return [t.name for t in db.session.execute(select(Town).order_by(Town.sort_order, Town.id)).scalars()]


BOOKING_FIELDS = [
    # filters of the list (not columns): handled by BookingRecordService.query
    Field("day", _("到达日期"), kind="date", filters=("eq",), list=False, detail=False, form=False, output=False),
    Field("status", _("通行状态"), kind="choice", choices=STATUS_FILTER, filters=("eq",), list=False, detail=False,
          form=False, output=False),
    Field("plate", _("车牌号"), filters=("eq",), list=False, detail=False, form=False, output=False),
    Field("name", _("司机姓名"), filters=("eq",), list=False, detail=False, form=False, output=False),
    Field("enterprise_id", _("企业编号"), kind="int", filters=("eq",), list=False, detail=False, form=False,
          output=False),
    Field("town", _("镇街"), kind="choice", choices=_towns, filters=("eq",), list=False, detail=False, form=False,
          output=False),
    # the columns
    Field("created_at", _("预约时间"), kind="datetime", sortable=True, form=False),
    Field("driver_name", _("司机姓名"), sortable=True, form=False),
    Field("id_number", _("身份证号码"), mask="id", form=False),
    Field("phone", _("联系电话"), mask="phone", form=False),
    Field("plate_number", _("车牌号"), sortable=True, form=False),
    Field("company", _("公司名称"), form=False),
    Field("enterprise_name", _("所属企业"), attr="enterprise.name", form=False),
    Field("origin", _("出发地"), list=False, form=False),
    Field("destination_town", _("目的地镇街"), attr="destination_town.name", form=False),
    Field("destination_address", _("目的地详细地址"), list=False, form=False),
    Field("expected_arrival", _("预计到达时间"), kind="datetime", sortable=True, form=False),
    Field("state", _("通行状态"), kind="choice", choices=STATE_CHOICES, form=False),
    Field("decided_at", _("通行时间"), kind="datetime", attr="pass_.decided_at", form=False),
    Field("reason", _("不通过原因"), attr="pass_.reason", form=False),
]
_SPECIAL = ("day", "status", "plate", "name", "town")


def plate_part(text: Any) -> str:
    """A part of a plate as stored: full-width folded, separators dropped, upper case."""
    return re.sub(r"[\s·•.\-]", "", unicodedata.normalize("NFKC", str(text or ""))).upper()


def status_clause(status: str):
    """已通行 / 未通行 (waiting, or unused past expiry) / 不予通行 of the booking's pass
    (the pass states as app.services.drivers.bookings.state_clause reads them)."""
    if status == PASSED:
        return state_clause(C.ALLOWED)
    if status == DENIED:
        return state_clause(C.DENIED)
    if status == NOT_THROUGH:
        return or_(status_clause(NOT_PASSED), status_clause(DENIED))
    return or_(state_clause(C.PENDING), state_clause(C.EXPIRED), Pass.id.is_(None))


class BookingRecordService(ModelService):
    """Bookings in the caller's scope (app/security/policies/drivers.py), newest first."""

    output_schemas = {
        "state_label": {"type": "string", "description": "通行状态 as shown (the label of ``state``)"},
        "passengers": {
            "type": "array", "description": "乘车人信息 (numbers masked in a list, full in one row's detail)",
            "items": {"type": "object", "required": ["name", "id_number", "phone"], "properties": {
                "name": {"type": "string", "description": "姓名"},
                "id_number": {"type": "string", "description": "身份证号码"},
                "phone": {"type": "string", "nullable": True, "description": "联系电话"}}},
        },
    }

    def __init__(self) -> None:
        super().__init__(Booking, BOOKING_FIELDS, entity="Booking", personal=True,
                         default_order=(Booking.created_at.desc(), Booking.id.desc()))

    def base_query(self, scope: S.Scope):
        return S.apply(select(Booking).outerjoin(Pass, Pass.booking_id == Booking.id), Booking, scope)

    def keyword_clause(self, keyword: str):
        """A part of the driver's name or of the plate (the plate as typed, normalised)."""
        text = keyword.strip()
        return or_(Booking.driver_name.contains(text, autoescape=True),
                   Booking.plate_number.contains(plate_part(text), autoescape=True))

    def query(self, scope: S.Scope, query: ListQuery):
        special = {f.key: value for f, _op, value in query.filters if f.key in _SPECIAL}
        rest = replace(query, filters=[item for item in query.filters if item[0].key not in _SPECIAL])
        stmt = super().query(scope, rest)
        clauses = []
        if special.get("day"):
            start, end = day_bounds_utc(special["day"])
            clauses.append(and_(Booking.expected_arrival >= start, Booking.expected_arrival < end))
        if special.get("status"):
            if special["status"] not in (PASSED, NOT_PASSED, DENIED, NOT_THROUGH):
                raise ServiceError(_("“%(label)s”的取值不在可选范围内", label=_("通行状态")))
            clauses.append(status_clause(special["status"]))
        if special.get("plate"):
            clauses.append(Booking.plate_number.contains(plate_part(special["plate"]), autoescape=True))
        if special.get("town"):  # bookings touching the town: bound for it, or of its enterprises' drivers
            town = select(Town.id).where(Town.name == special["town"])
            clauses.append(or_(Booking.destination_town_id.in_(town), Booking.scope_town_id.in_(town)))
        if special.get("name"):
            clauses.append(Booking.driver_name.contains(str(special["name"]).strip(), autoescape=True))
        return stmt.where(*clauses) if clauses else stmt

    def to_dict(self, row: Booking, *, masked_values: bool = False) -> dict[str, Any]:
        out = super().to_dict(row, masked_values=masked_values)
        out["state_label"] = str(_(C.STATE_LABELS[row.state]))
        out["passengers"] = [passenger_dict(p, masked_values) for p in row.passengers]
        return out


def passenger_dict(p, masked_values: bool = False) -> dict[str, Any]:
    return {"name": p.name,
            "id_number": mask_id(p.id_number) if masked_values and p.id_number else p.id_number,
            "phone": mask_phone(p.phone) if masked_values and p.phone else p.phone}


def state_label(booking: Booking) -> str:
    return str(_(C.STATE_LABELS[booking.state]))


EXPORT_HEADERS = (_("预约时间"), _("司机姓名"), _("身份证号码"), _("联系电话"), _("车牌号"), _("公司名称"),
                  _("所属企业"), _("出发地"), _("目的地镇街"), _("目的地详细地址"), _("预计到达时间"),
                  _("通行状态"), _("通行时间"), _("不通过原因"), _("乘车人"))


@operation
def booking_export(session, scope: S.Scope, query: ListQuery, args: Mapping[str, Any]) -> exports.Export:
    """导出: the bookings of the list's filter (masked numbers unless the caller may read
    full ones), audited with the row count and the filter."""
    full = scope.full_numbers
    service = BookingRecordService()
    stmt = service.query(scope, query).execution_options(yield_per=1000)

    def hide(value, mask):
        return value if full or not value else mask(value)

    def rows():
        for b in session.execute(stmt).scalars():
            p = b.pass_
            riders = "；".join(f"{x.name} {hide(x.id_number, mask_id)}" for x in b.passengers)
            yield [local_text(b.created_at), b.driver_name, hide(b.id_number, mask_id), hide(b.phone, mask_phone),
                   b.plate_number, b.company or "", b.enterprise.name if b.enterprise else "", b.origin,
                   b.destination_town.name, b.destination_address, local_text(b.expected_arrival),
                   state_label(b), local_text(p.decided_at) if p else "", (p.reason or "") if p else "", riders]

    title = str(_("预约和通行记录"))
    file, count = exports.write_sheet([str(h) for h in EXPORT_HEADERS], [2, 3, 4], rows(), title)
    exports.audit_export("Booking", None, count, exports.describe(**query.describe()), full)
    return exports.Export(file, f"{title}_{exports.stamp()}.xlsx", count)


def booking_json(b: Booking) -> dict[str, Any]:
    """A booking as the phone lists show it (no ID number)."""
    return {"id": b.id, "driver_name": b.driver_name, "plate_number": b.plate_number,
            "expected_arrival": json_value(b.expected_arrival), "state": b.state, "state_label": state_label(b)}
