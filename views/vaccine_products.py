"""系统管理 → 疫苗产品: the district admin edits vaccine products (dose counts, intervals).

A FAB ModelView on ``models.vaccines.VaccineProduct``; the resource ``VaccineProduct``
is held by the district admin only. Every field is checked by the same rule the
statistics read with (``app.domain.vaccines.product_from_dict``, through
``app.services.health.vaccine_products.validate``): errors show beside the field and
nothing is saved. Adds, edits and deletes are audited with before/after values. The
next statistics page uses the new values (products are read per request).
"""
from __future__ import annotations

from flask import flash, g
from flask_appbuilder import ModelView
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _
from sqlalchemy import inspect
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, Optional, ValidationError

from app.domain import vaccines
from app.domain.errors import RuleError, ServiceError
from app.platform import audit
from app.platform.extensions import db
from app.security import roles as R
from app.services.health import stats
from app.services.health import vaccine_products as service
from models.vaccines import VaccineProduct

FORM_KEYS = {"is_default": "default"}
NUMBERS = ("primary_doses", "primary_interval_days", "booster_doses", "booster_interval_days")


class ProductRule:
    """WTForms validator: the whole form read as a product; reports the errors of one field."""

    def __init__(self, field_name: str) -> None:
        self.field_name = field_name

    def __call__(self, form, field) -> None:
        raw = {FORM_KEYS.get(k, k): v for k, v in form.data.items()}
        for key in NUMBERS:
            value = raw.get(key)
            if isinstance(value, str):
                value = value.strip()
                raw[key] = int(value) if value.isdigit() else (None if value == "" else value)
        try:
            vaccines.product_from_dict(raw)
        except RuleError as err:
            if err.field == self.field_name:
                raise ValidationError(str(err.message))


def _form_fields(labels: dict, descriptions: dict) -> dict:
    """The number and yes/no fields, checked by the product rule instead of DataRequired."""
    fields = {}
    for key in NUMBERS:
        required = [InputRequired()] if key.endswith("_doses") else [Optional()]
        fields[key] = IntegerField(labels[key], description=descriptions.get(key, ""),
                                   validators=required + [ProductRule(key)], widget=BS3TextFieldWidget())
    for key, default in (("is_default", False), ("active", True)):
        fields[key] = BooleanField(labels[key], description=descriptions.get(key, ""), default=default)
    return fields


class VaccineProductView(ModelView):
    datamodel = SQLAInterface(VaccineProduct)
    class_permission_name = R.VACCINE_PRODUCT
    base_order = ("id", "asc")
    list_columns = ["code", "name", "maker", "primary_doses", "primary_interval_days", "booster_doses",
                    "booster_interval_days", "is_default", "active"]
    show_columns = list_columns + ["aliases", "updated_at"]
    add_columns = edit_columns = ["code", "name", "maker", "aliases", "primary_doses", "primary_interval_days",
                                  "booster_doses", "booster_interval_days", "is_default", "active"]
    search_columns = ["code", "name", "maker", "active"]
    label_columns = {
        "code": _("编码"), "name": _("疫苗名称"), "maker": _("生产企业"), "aliases": _("别名"),
        "primary_doses": _("基础免疫针次"), "primary_interval_days": _("基础免疫间隔(天)"),
        "booster_doses": _("加强针次"), "booster_interval_days": _("加强针间隔(天)"),
        "is_default": _("默认疫苗"), "active": _("启用"), "updated_at": _("更新时间(UTC)"),
    }
    description_columns = {
        "code": _("唯一编码，字母、数字或下划线"),
        "aliases": _("接种记录中可能出现的其他名称，每行一个"),
        "primary_interval_days": _("基础免疫相邻两针至少间隔的天数"),
        "booster_interval_days": _("完成基础免疫后至少间隔多少天可接种加强针"),
        "is_default": _("接种记录未写明疫苗或无法识别时按此疫苗计算（仅一个）"),
        "active": _("停用后统计不再使用该疫苗的参数"),
    }
    validators_columns = {"name": [ProductRule("name")]}
    # FAB marks NOT NULL columns DataRequired: an unticked box or a 0 would be "required".
    add_form_extra_fields = edit_form_extra_fields = _form_fields(label_columns, description_columns)
    list_title = show_title = _("疫苗产品")
    add_title = _("新增疫苗产品")
    edit_title = _("编辑疫苗产品")

    def _check(self, item: VaccineProduct) -> None:
        try:
            service.validate(db.session, item)
        except ServiceError as err:
            db.session.rollback()
            raise ValueError(str(err.message))

    def pre_add(self, item):
        self._check(item)

    def post_add(self, item):
        service.after_save(db.session, item)
        service.audit_change("create", item)
        stats.bump_generation()

    def pre_update(self, item):
        state = inspect(item)
        before = {}
        for key in service.AUDIT_FIELDS:
            history = state.attrs[key].history
            before[key] = history.deleted[0] if history.deleted else getattr(item, key)
        g._vaccine_before = before
        self._check(item)

    def post_update(self, item):
        service.after_save(db.session, item)
        service.audit_change("update", item, before=getattr(g, "_vaccine_before", None))
        stats.bump_generation()

    def pre_delete(self, item):
        g._vaccine_before = audit.snapshot(item, service.AUDIT_FIELDS)

    def post_delete(self, item):
        service.audit_change("delete", item, before=getattr(g, "_vaccine_before", None))
        stats.bump_generation()
        flash(str(_("已删除疫苗产品“%(name)s”，重新启动也不会恢复", name=item.name)), "info")
