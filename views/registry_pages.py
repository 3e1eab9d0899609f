"""Registry pages (PC and phone) of the declared resources ``enterprise`` and ``staff``
(views/registry.py): the flows of their own — lists with the health status, forms with
each enterprise type's declared fields — over the generic pages of views/resources.py."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _

from app.domain.enterprise_types import parse_declaration
from app.domain.errors import OutOfScope, ServiceError
from app.domain.health import BUCKET_UNMATCHED, BUCKETS, UNMATCHED_HINTS, UNMATCHED_NOTE
from app.domain.identity import ID_TYPES, mask_id, mask_phone
from app.security import personal_data
from app.security import roles as R
from app.security.redirects import redirect_target
from app.security.scope import get_or_404, may_write, row_attributes
from app.services import enterprises as enterprise_service
from app.services import exports
from app.services import lookups
from app.services import staff as staff_service
from app.services.health.status import lookup as health_status
from app.services.truck_ledgers import freight_type_code
from app.services.rules import compliance
from models.enterprises import Enterprise
from models.staff import Staff
from views.resources import ResourceView


# The list of the freight type's enterprises has a title of its own (seed 002 §2.5).
FREIGHT_LIST_TITLE = _("货车企业管理")


def _form_payload(keys: list[str], extra_keys: list[str]) -> dict:
    data = {k: request.form.get(k, "") for k in keys}
    data["extras"] = {k: request.form.get(f"extras.{k}", "") for k in extra_keys}
    return data


class EnterprisePages(ResourceView):
    """企业管理 (declared as ``enterprise``: the class built from it is ``EnterpriseView``)."""

    FIELDS = ["name", "type_code", "town", "grid", "address", "head_name", "head_phone", "credit_code"]

    @expose("/")
    @has_access
    def list(self):
        page, size = self.paging()
        q = request.args.get("q", "")
        # ?type=<code>: one type's enterprises (货车企业管理 is ?type=freight, views/trucks.py)
        etype = next((t for t in lookups.types_in_scope(self.session, self.scope)
                      if t.code == request.args.get("type")), None)
        result = enterprise_service.list_page(self.session, self.scope, q, page, size,
                                              type_id=etype.id if etype else None)
        sees_compliance = self.appbuilder.sm.has_access("can_read", R.COMPLIANCE)
        writable = lookups.writable_types(self.session, self.scope)
        return self.render_template(
            "sentinel/enterprise_list.html", page=result, q=q, mask_phone=mask_phone, etype=etype,
            may_add=bool(writable) and (etype is None or etype in writable),
            broken=compliance.count_broken(self.session, self.scope) if sees_compliance else None,
            title=(FREIGHT_LIST_TITLE if etype.code == freight_type_code() else etype.name) if etype else _("企业管理"),
        )

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk: int):
        enterprise = get_or_404(self.session, Enterprise, pk, self.scope)
        decl = parse_declaration(enterprise.type.spec)
        return self.render_template("sentinel/enterprise_detail.html", e=enterprise, decl=decl, title=enterprise.name,
                                    may_edit=self._may_edit(enterprise))

    def _may_edit(self, enterprise) -> bool:
        return may_write(self.session, Enterprise, row_attributes(enterprise), self.scope)

    def _form(self, enterprise=None, data=None, errors=None):
        types = lookups.writable_types(self.session, self.scope)
        if enterprise is not None and enterprise.type not in types:
            types.append(enterprise.type)  # a deactivated type stays its enterprises' own
        towns = lookups.towns_in_scope(self.session, self.scope)
        data = data or (enterprise_service.to_dict(enterprise) if enterprise else {})
        type_code = request.values.get("type_code") or data.get("type_code") or (types[0].code if types else "")
        chosen = next((t for t in types if t.code == type_code), types[0] if types else None)
        decl = parse_declaration(chosen.spec if chosen else {})
        return self.render_template(
            "sentinel/enterprise_form.html", enterprise=enterprise, data=data, errors=errors or {},
            types=types, towns=towns, chosen=chosen, decl=decl,
            title=_("编辑企业") if enterprise else _("新增企业"),
        )

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        if request.method == "GET":
            return self._form()
        types = lookups.writable_types(self.session, self.scope)
        chosen = next((t for t in types if t.code == request.form.get("type_code")), None)
        extra_keys = [f.key for f in parse_declaration(chosen.spec if chosen else {}).enterprise_fields]
        data = _form_payload(self.FIELDS, extra_keys)
        try:
            enterprise = enterprise_service.create(self.session, self.scope, data)
        except ServiceError as err:
            flash(str(err.message), "danger")
            return self._form(data=data, errors={e.field: str(e.message) for e in err.errors})
        flash(str(_("已保存")), "success")
        return redirect(url_for("EnterpriseView.detail", pk=enterprise.id))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        enterprise = get_or_404(self.session, Enterprise, pk, self.scope)
        if not self._may_edit(enterprise):  # seen but not written (a town's freight enterprise)
            raise OutOfScope("Enterprise", pk)
        if request.method == "GET":
            return self._form(enterprise)
        extra_keys = [f.key for f in parse_declaration(enterprise.type.spec).enterprise_fields]
        data = _form_payload(self.FIELDS, extra_keys)
        try:
            enterprise_service.update(self.session, self.scope, pk, data)
        except ServiceError as err:
            flash(str(err.message), "danger")
            return self._form(enterprise, data=data, errors={e.field: str(e.message) for e in err.errors})
        flash(str(_("已保存")), "success")
        return redirect(url_for("EnterpriseView.detail", pk=pk))


class StaffPages(ResourceView):
    """人员管理 (declared as ``staff``: the class built from it is ``StaffView``)."""

    FIELDS = ["enterprise_id", "name", "id_type", "id_number", "phone", "category", "worker_kind",
              "residence_type", "address"]

    @expose("/")
    @has_access
    def list(self):
        """The staff ledger (seed 001 §2.3) with each person's test status; ?enterprise_id=
        narrows it to one enterprise in scope (主体名称, 404 outside it); ?bucket= keeps one
        bucket (未匹配人员: unmatched, where the registering roles read full ID numbers,
        audited). ID numbers and phones are masked everywhere else."""
        page, size = self.paging()
        q = request.args.get("q", "")
        enterprise_id = request.args.get("enterprise_id", type=int)
        chosen = get_or_404(self.session, Enterprise, enterprise_id, self.scope) if enterprise_id else None
        bucket = health_status.parse_bucket(request.args.get("bucket"))
        result = health_status.list_page(self.session, self.scope, q, page, size, enterprise_id, bucket)
        unmatched = bucket == BUCKET_UNMATCHED
        full_ids = unmatched and personal_data.sees_full_ids_when_unmatched(r.name for r in g.user.roles)
        if full_ids:
            staff_service.record_full_id_read(self.session, [s.id for s in result.items], _("未匹配人员：完整证件号码"))
        enterprises = self._enterprises()
        cache: dict = {}
        writable = {e for e in {s.enterprise_id for s in result.items}
                    if staff_service.may_write_in(self.session, self.scope, e, cache)}
        # 新增 / 导入 where some enterprise (the chosen one) takes the user's people; a
        # town user sees its freight enterprises' drivers but writes none (app/security/policies)
        may_add = any(staff_service.may_write_in(self.session, self.scope, e.id, cache)
                      for e in ([chosen] if chosen else enterprises))
        return self.render_template(
            "sentinel/staff_list.html", page=result, q=q, enterprise_id=enterprise_id, chosen=chosen,
            enterprises=enterprises, bucket=bucket, may_add=may_add, writable=writable,
            alert_settings=self._alert_settings_link(chosen),
            buckets=[(b, health_status.bucket_label(b)) for b in BUCKETS],
            hints=UNMATCHED_HINTS if unmatched else (), note=UNMATCHED_NOTE if unmatched else None,
            mask_id=(lambda value: value) if full_ids else mask_id, mask_phone=mask_phone,
            ledger_columns=exports.LEDGER_COLUMNS,
            title=_("未匹配人员") if unmatched else _("人员管理"),
        )

    def _alert_settings_link(self, enterprise):
        """告警设置 of this kind of sentinel staff (the enterprise's type), for those who may see it."""
        if not self.appbuilder.sm.has_access("can_read", R.ALERT_SETTING):
            return None
        if enterprise is not None:
            return url_for("AlertSettingsView.list", q=enterprise.type.name)
        return url_for("AlertSettingsView.list")

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk: int):
        person, health = staff_service.read_detail(
            self.session, self.scope, pk, options=health_status.WITH_SUMMARY,
            reading=lambda p: (p, health_status.person_health(self.session, p)),
        )
        decl = parse_declaration(person.enterprise.type.spec)
        id_number, phone = personal_data.detail_numbers(self.scope.full_numbers, person.id_number, person.phone)
        return self.render_template("sentinel/staff_detail.html", s=person, decl=decl, health=health,
                                    may_edit=staff_service.may_write_in(self.session, self.scope, person.enterprise_id),
                                    compliance=compliance.person_compliance(self.session, person.id),
                                    id_number=id_number, phone=phone,
                                    open_history=request.args.get("tests") == "1",  # the ledger's 查看核酸
                                    title=person.name)

    def _enterprises(self):
        return list(self.session.execute(enterprise_service.query(self.scope).limit(500)).unique().scalars())

    def _form(self, person=None, data=None, errors=None):
        enterprises = staff_service.writable_enterprises(self.session, self.scope, self._enterprises())
        data = data or (staff_service.to_dict(person) if person else {})
        wanted = request.values.get("enterprise_id", type=int) or data.get("enterprise_id")
        chosen = next((e for e in enterprises if e.id == (int(wanted) if wanted else None)), enterprises[0] if enterprises else None)
        decl = parse_declaration(chosen.type.spec if chosen else {})
        cancel = self._back() or (url_for("StaffView.detail", pk=person.id) if person else url_for("StaffView.list"))
        return self.render_template(
            "sentinel/staff_form.html", person=person, data=data, errors=errors or {},
            enterprises=enterprises, chosen=chosen, decl=decl, id_types=ID_TYPES,
            back=self._back(), cancel=cancel,
            title=_("编辑人员") if person else _("新增人员"),
        )

    @staticmethod
    def _back() -> str:
        """Where the form came from (?back= or the posted ``back``: the head's phone pages),
        checked like every redirect from input; empty when not given."""
        raw = request.values.get("back")
        return redirect_target(raw) if raw else ""

    def _payload(self):
        enterprise = get_or_404(self.session, Enterprise, request.form.get("enterprise_id"), self.scope)
        extra_keys = [f.key for f in parse_declaration(enterprise.type.spec).staff_fields]
        return _form_payload(self.FIELDS, extra_keys)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        if request.method == "GET":
            return self._form()
        data = self._payload()
        try:
            person = staff_service.create(self.session, self.scope, data)
        except ServiceError as err:
            flash(str(err.message), "danger")
            return self._form(data=data, errors={e.field: str(e.message) for e in err.errors})
        flash(str(_("已保存")), "success")
        return redirect(self._back() or url_for("StaffView.detail", pk=person.id))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        person = get_or_404(self.session, Staff, pk, self.scope)
        if not staff_service.may_write_in(self.session, self.scope, person.enterprise_id):
            raise OutOfScope("Staff", pk)  # seen but not written (a town's freight driver)
        if request.method == "GET":
            return self._form(person)
        data = self._payload()
        try:
            staff_service.update(self.session, self.scope, pk, data)
        except ServiceError as err:
            flash(str(err.message), "danger")
            return self._form(person, data=data, errors={e.field: str(e.message) for e in err.errors})
        flash(str(_("已保存")), "success")
        return redirect(self._back() or url_for("StaffView.detail", pk=pk))

    @expose("/delete", methods=["POST"])
    @has_access
    def delete(self):
        count = staff_service.delete_many(self.session, self.scope, request.form.getlist("ids"))
        flash(str(_("已删除 %(n)d 条数据", n=count)), "success")
        return redirect(redirect_target(request.form.get("back") or url_for("StaffView.list")))
