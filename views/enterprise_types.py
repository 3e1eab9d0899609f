"""Enterprise types (主体类型), district admin only: pages and /api/v1/enterprise_type/.

Both sides call app/services/enterprise_types.py; the resource permission
``EnterpriseType`` is held by the district admin only (app/security/roles.py).
"""
from __future__ import annotations

import json

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _
from sqlalchemy import select

from app.domain.errors import ServiceError
from app.security import roles as R
from app.services import enterprise_types as service
from models.organisations import Bureau
from views.base import rw_map
from views.menus import ADMIN
from views.resources import Menu, Resource, ResourceView

LIST_KEYS = tuple(service.LISTS)
FIELD_KEYS = tuple(service.FIELD_LISTS)
KIND_LABELS = [("text", _("文本")), ("number", _("数字")), ("date", _("日期")), ("choice", _("选项"))]


def _form_payload() -> dict:
    """The posted form as a service payload. The extra fields arrive as JSON (built by
    the page's editor, or typed into the textarea without JavaScript); text that is
    not JSON is passed on as text, which the service refuses with a clear message."""
    form = request.form
    data = {"code": form.get("code", ""), "name": form.get("name", ""), "bureau_id": form.get("bureau_id", ""),
            "active": "active" in form}
    data.update({key: form.get(key, "") for key in LIST_KEYS})
    for key in FIELD_KEYS:
        text = form.get(key, "").strip()
        try:
            data[key] = json.loads(text) if text else []
        except ValueError:
            data[key] = text
    return data


def _form_data(etype=None) -> dict:
    """What the form shows: lists one per line, extra fields as JSON for the editor."""
    spec = service.to_dict(etype)["spec"] if etype else {}
    data = {"code": etype.code if etype else "", "name": etype.name if etype else "",
            "bureau_id": str(etype.bureau_id or "") if etype else "", "active": etype.active if etype else True}
    data.update({key: "\n".join(spec.get(key, [])) for key in LIST_KEYS})
    data.update({key: json.dumps(spec.get(key, []), ensure_ascii=False, indent=1) for key in FIELD_KEYS})
    return data


def _errors(err: ServiceError) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for e in err.errors:
        out.setdefault(e.field, []).append(str(e.message))
    return {field: "；".join(messages) for field, messages in out.items()}


class EnterpriseTypePages(ResourceView):
    """List, add, edit, deactivate and delete enterprise types (系统管理 → 主体类型)."""

    method_permission_name = rw_map(extra_write=("toggle", "delete_one"))

    @expose("/")
    @has_access
    def list(self):
        return self.render_template("sentinel/enterprise_type_list.html", rows=service.list_types(self.session),
                                    title=_("主体类型"))

    def _form(self, etype=None, data=None, errors=None, status=200):
        bureaus = list(self.session.execute(select(Bureau).order_by(Bureau.id)).scalars())
        used = service.enterprise_counts(self.session).get(etype.id, 0) if etype else 0
        page = self.render_template(
            "sentinel/enterprise_type_form.html", etype=etype, data=data or _form_data(etype),
            errors=errors or {}, bureaus=bureaus, kinds=[(k, str(v)) for k, v in KIND_LABELS], used=used,
            title=_("编辑主体类型") if etype else _("新增主体类型"),
        )
        return page, status

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        if request.method == "GET":
            return self._form()
        data = _form_payload()
        try:
            etype = service.create(self.session, data)
        except ServiceError as err:
            return self._form(data={**request.form.to_dict(), "active": data["active"]}, errors=_errors(err),
                              status=err.status)
        flash(str(_("主体类型“%(name)s”已保存，现在即可登记该类型的企业", name=etype.name)), "success")
        return redirect(url_for("EnterpriseTypeView.list"))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        etype = service.get(self.session, pk)
        if request.method == "GET":
            return self._form(etype)
        data = _form_payload()
        try:
            service.update(self.session, pk, data)
        except ServiceError as err:
            return self._form(etype, data={**request.form.to_dict(), "active": data["active"]},
                              errors=_errors(err), status=err.status)
        flash(str(_("已保存")), "success")
        return redirect(url_for("EnterpriseTypeView.list"))

    @expose("/<int:pk>/active", methods=["POST"])
    @has_access
    def toggle(self, pk: int):
        """停用 / 启用 (form field ``active`` = 0 or 1)."""
        etype = service.set_active(self.session, pk, service.as_bool(request.form.get("active")))
        flash(str(_("已启用“%(name)s”", name=etype.name) if etype.active else _("已停用“%(name)s”", name=etype.name)),
              "success")
        return redirect(url_for("EnterpriseTypeView.list"))

    @expose("/<int:pk>/delete", methods=["POST"])
    @has_access
    def delete_one(self, pk: int):
        try:
            service.delete(self.session, pk)
        except ServiceError as err:
            flash(str(err.message), "danger")
        else:
            flash(str(_("已删除")), "success")
        return redirect(url_for("EnterpriseTypeView.list"))


ENTERPRISE_TYPES = Resource(
    name="enterprise_type", title=_("主体类型"), permission=R.ENTERPRISE_TYPE,
    service=service.EnterpriseTypeService(), route="/enterprise_types",
    menu=Menu(ADMIN, _("主体类型"), "fa-list", name="EnterpriseTypes"),
    view_class=EnterpriseTypePages, pages=("list", "add", "edit", "delete", "export"),
    item_title=lambda row: row.name,
)
