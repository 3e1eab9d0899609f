"""系统管理 → 疫苗产品 as a declared resource's service: the product rules of
``vaccine_products.validate`` on every write, one default product at most, and the
statistics' shared cache restarted after each change (products are read per request)."""
from __future__ import annotations

from typing import Any

from app.domain.fields import Field
from app.domain.i18n import _
from app.services.health.statistics import tables
from app.services.health.feeds.vaccine_products import AUDIT_FIELDS, ENTITY, after_save, validate
from app.services.resources import ModelService
from models.vaccines import VaccineProduct


FIELDS = [
    Field("code", _("编码"), required=True, max_length=32, search=True, filters=("eq",), sortable=True,
          description=_("唯一编码，字母、数字或下划线")),
    Field("name", _("疫苗名称"), required=True, max_length=100, search=True, sortable=True),
    Field("maker", _("生产企业"), max_length=64, search=True),
    Field("aliases", _("别名"), kind="textarea", list=False,
          description=_("接种记录中可能出现的其他名称，每行一个")),
    Field("primary_doses", _("基础免疫针次"), kind="int", required=True, minimum=1, maximum=5),
    Field("primary_interval_days", _("基础免疫间隔(天)"), kind="int", minimum=0, maximum=3650,
          description=_("基础免疫相邻两针至少间隔的天数")),
    Field("booster_doses", _("加强针次"), kind="int", required=True, minimum=0, maximum=5),
    Field("booster_interval_days", _("加强针间隔(天)"), kind="int", minimum=0, maximum=3650,
          description=_("完成基础免疫后至少间隔多少天可接种加强针")),
    Field("is_default", _("默认疫苗"), kind="bool", filters=("eq",),
          description=_("接种记录未写明疫苗或无法识别时按此疫苗计算（仅一个）")),
    Field("active", _("启用"), kind="bool", default=True, filters=("eq",),
          description=_("停用后统计不再使用该疫苗的参数")),
]


class VaccineProductService(ModelService):
    """系统管理 → 疫苗产品: the rules of :func:`validate` on every write; a default
    product clears the others' flag; every change restarts the statistics' cache."""

    def __init__(self) -> None:
        super().__init__(VaccineProduct, FIELDS, entity=ENTITY, default_order=(VaccineProduct.id.asc(),))

    def validate(self, session, values: dict[str, Any], current: Any = None) -> None:
        probe = VaccineProduct(**{k: v for k, v in values.items() if k in AUDIT_FIELDS})
        probe.id = current.id if current is not None else None
        validate(session, probe)
        values.update(code=probe.code, name=probe.name, maker=probe.maker, aliases=probe.aliases)

    def after_write(self, session, row: VaccineProduct, action: str) -> None:
        after_save(session, row)
        tables.bump_generation()

    def after_delete(self, session, rows: list[VaccineProduct]) -> None:
        tables.bump_generation()
