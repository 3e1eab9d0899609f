"""Enterprise types (主体类型), district admin only: pages and /api/v1/enterprise_type/.

Both sides call app/services/enterprise_types.py; the resource permission
``EnterpriseType`` is held by the district admin only (app/security/roles.py).
"""
from __future__ import annotations

import json

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name, protect
from flask_babel import lazy_gettext as _
from sqlalchemy import select

from app.domain.errors import ServiceError
from app.security import roles as R
from app.services import enterprise_types as service
from models.organisations import Bureau
from views import openapi as doc
from views.base import ScopedApi, ScopedView, rw_map

LIST_KEYS = tuple(service.LISTS)
FIELD_KEYS = tuple(service.FIELD_LISTS)
KIND_LABELS = [("text", _("文本")), ("number", _("数字")), ("date", _("日期")), ("choice", _("选项"))]

_STRINGS = doc.array({"type": "string"})
_FIELD = doc.obj({"key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"}, "label": {"type": "string"},
                  "kind": {"type": "string", "enum": ["text", "number", "date", "choice"]},
                  "required": {"type": "boolean"}, "choices": _STRINGS}, required=("key", "label"))
_DECLARATION = {"categories": _STRINGS, "worker_kinds": _STRINGS, "residence_types": _STRINGS,
                "enterprise_fields": doc.array(_FIELD), "staff_fields": doc.array(_FIELD)}
TYPE_INPUT = doc.obj({
    "code": {"type": "string", "description": "Fixed once created"}, "name": {"type": "string"},
    "bureau": {"type": "string", "description": "The supervising bureau: its code, name or id"},
    "active": {"type": "boolean"},
    "spec": doc.obj(_DECLARATION, description="The declaration (its keys are also taken at the top level)"),
    **_DECLARATION,
}, required=("code", "name", "bureau"))
ENTERPRISE_TYPE = doc.obj({
    "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"}, "active": {"type": "boolean"},
    "bureau": doc.nullable({"type": "string", "description": "The bureau's code"}),
    "bureau_id": doc.nullable({"type": "integer"}), "bureau_name": doc.nullable({"type": "string"}),
    "spec": doc.obj(_DECLARATION, required=tuple(_DECLARATION)),
    "enterprises": {"type": "integer", "description": "Enterprises of this type"},
}, required=("id", "code", "name", "active", "bureau", "bureau_id", "bureau_name", "spec"))
_ONE = doc.one_schema(doc.ref("EnterpriseType"))


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


class EnterpriseTypeView(ScopedView):
    """List, add, edit, deactivate and delete enterprise types (系统管理 → 主体类型)."""

    route_base = "/enterprise_types"
    class_permission_name = R.ENTERPRISE_TYPE
    method_permission_name = rw_map(extra_write=("toggle",))

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
            self.session.rollback()
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
            self.session.rollback()
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
    def delete(self, pk: int):
        try:
            service.delete(self.session, pk)
        except ServiceError as err:
            self.session.rollback()
            flash(str(err.message), "danger")
        else:
            flash(str(_("已删除")), "success")
        return redirect(url_for("EnterpriseTypeView.list"))


class EnterpriseTypeApi(ScopedApi):
    """/api/v1/enterprise_type/ — district admin only (403 for everyone else)."""

    resource_name = "enterprise_type"
    class_permission_name = R.ENTERPRISE_TYPE
    openapi_spec_tag = "EnterpriseType"
    openapi_components = {"EnterpriseType": ENTERPRISE_TYPE, "EnterpriseTypeInput": TYPE_INPUT}

    @expose("/", methods=["GET"])
    @protect()
    @permission_name("get_list")
    @doc.describe(doc.answer(doc.obj({"count": {"type": "integer"}, "result": doc.array(doc.ref("EnterpriseType"))},
                                         required=("count", "result")), "Every type"))
    def get_list(self):
        """Every enterprise type with its declaration and enterprise count."""
        rows = service.list_types(self.session)
        return self.response(200, count=len(rows), result=[service.to_dict(t, n) for t, n in rows])

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @permission_name("get")
    @doc.describe(doc.answer(_ONE, "The type"), errors=(404,))
    def get(self, pk: int):
        """One enterprise type."""
        etype = service.get(self.session, pk)
        used = service.enterprise_counts(self.session).get(etype.id, 0)
        return self.response(200, id=pk, result=service.to_dict(etype, used))

    @expose("/", methods=["POST"])
    @protect()
    @permission_name("post")
    @doc.describe(doc.answer(_ONE, "Created"), status=201, body=doc.json_body(doc.ref("EnterpriseTypeInput")),
                  errors=(400, 409))
    def post(self):
        """Create a type with its declaration.

        A bad declaration is a 400 and saves nothing; a code or name that exists a 409."""
        etype = service.create(self.session, self.json_body())
        return self.response(201, id=etype.id, result=service.to_dict(etype, 0))

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @permission_name("put")
    @doc.describe(doc.answer(_ONE, "Changed"), errors=(400, 404, 409),
                  body=doc.json_body(doc.obj(TYPE_INPUT["properties"]), "Any of the fields"))
    def put(self, pk: int):
        """Change a type (partial payloads keep the other values; the code is fixed).

        Stored extras of enterprises and staff are kept even when a field is removed. A bad
        declaration is a 400 and saves nothing; a name that exists a 409."""
        etype = service.update(self.session, pk, self.json_body())
        used = service.enterprise_counts(self.session).get(etype.id, 0)
        return self.response(200, id=etype.id, result=service.to_dict(etype, used))

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @permission_name("delete")
    @doc.describe(doc.answer(doc.ref("Message"), "Deleted"), errors=(404, 409))
    def delete(self, pk: int):
        """Delete an unused type; a type in use is a 409 (deactivate it with PUT active=false)."""
        service.delete(self.session, pk)
        return self.response(200, message="OK")
