"""Enterprise heads (phone first): SMS-code login, choice of enterprise, home.

The SMS-code flow is app/services/identity.py (purpose ``head``); which enterprises a head sees is the
scope's business (app/security/scope.py), these views only render and redirect.
"""
from __future__ import annotations

from flask import flash, g, jsonify, redirect, request, session, url_for
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _
from flask_login import login_user

from app.domain.errors import OutOfScope, ServiceError
from app.domain.health import BUCKET_RANGES, BUCKET_UNMATCHED, DATA_SOURCE_NOTE, UNMATCHED_HINTS, UNMATCHED_NOTE
from app.domain.identity import mask_id, mask_phone
from app.security import personal_data
from app.security import roles as R
from app.security.identities import HEAD
from app.security.redirects import redirect_target
from app.security.scope import get_or_404
from app.services import enterprises as enterprise_service
from app.services import identity
from app.services import staff as staff_service
from app.services.health.status import lookup as health_status
from app.services.rules import compliance
from models.enterprises import Enterprise
from views.base import ScopedView

CHOSEN = "head_enterprise_id"


class HeadView(ScopedView):
    route_base = "/head"
    class_permission_name = R.ENTERPRISE
    method_permission_name = {"home": "read", "select": "read", "people": "read", "person": "read", "staff": "read"}
    STAFF_PAGE_SIZE = 10  # 10条/页 (seed 000 §2.3)
    default_view = "home"

    # --- login (public) ---------------------------------------------------------

    def _login_page(self, phone: str = "", error: str | None = None, status: int = 200):
        return self.render_template(
            "sentinel/head_login.html", phone=phone, error=error, title=_("企业负责人登录"),
            next_url=request.args.get("next", ""),
        ), status

    def _signed_in(self):
        return g.user is not None and g.user.is_authenticated

    def _log_in(self, user):
        """Log the head in (FAB's statistics and audit included); where to go next."""
        login_user(user, remember=False)
        self.appbuilder.sm.update_user_auth_stat(user, True)
        session.pop(CHOSEN, None)
        wanted = request.args.get("next")
        return redirect_target(wanted) if wanted else url_for("HeadView.home")

    @expose("/login", methods=["GET", "POST"])
    def login(self):
        """The phone page: 手机号码, 获取验证码, 验证码, 登录 (the form posts here)."""
        if request.method == "GET":
            if self._signed_in():  # the index sends each role to its own home
                return redirect(self.appbuilder.get_url_for_index)
            return self._login_page()
        phone = request.form.get("phone", "")
        try:
            verified = identity.verify(self.session, phone, request.form.get("code"), HEAD, self._address())
        except ServiceError as err:
            return self._login_page(phone, str(err.message), err.status)
        return redirect(self._log_in(verified.user))

    @expose("/login/code", methods=["POST"])
    def code(self):
        """JSON {phone} → {"message": "验证码已发送"}; the same answer whether the phone is known."""
        data = request.get_json(silent=True) or request.form
        try:
            identity.request_code(self.session, data.get("phone"), HEAD, self._address())
        except ServiceError as err:
            return jsonify(message=str(err.message)), err.status
        return jsonify(message=str(identity.MSG_SENT))

    @expose("/login/verify", methods=["POST"])
    def verify(self):
        """JSON (or form) {phone, code} → {"message", "next"}; 400 with the reason."""
        data = request.get_json(silent=True) or request.form
        try:
            verified = identity.verify(self.session, data.get("phone"), data.get("code"), HEAD, self._address())
        except ServiceError as err:
            return jsonify(message=str(err.message)), err.status
        return jsonify(message=str(_("登录成功")), next=self._log_in(verified.user))

    @staticmethod
    def _address() -> str:
        return request.remote_addr or "-"

    # --- signed in --------------------------------------------------------------

    def _enterprises(self) -> list[Enterprise]:
        stmt = enterprise_service.query(self.scope).limit(200)
        return list(self.session.execute(stmt).unique().scalars())

    @expose("/select", methods=["GET", "POST"])
    @has_access
    def select(self):
        """Pick the enterprise to work on (a phone may head several)."""
        if request.method == "POST":
            try:
                enterprise = get_or_404(self.session, Enterprise, request.form.get("enterprise_id"), self.scope)
            except OutOfScope:
                flash(str(_("请选择企业")), "warning")
                return redirect(url_for("HeadView.select"))
            session[CHOSEN] = enterprise.id
            return redirect(url_for("HeadView.home"))
        return self.render_template(
            "sentinel/head_select.html", enterprises=self._enterprises(), chosen=session.get(CHOSEN),
            title=_("选择企业"),
        )

    def _chosen(self) -> Enterprise | None:
        """The enterprise the head works on (None: they must pick one first)."""
        enterprise = None
        if session.get(CHOSEN):
            try:
                enterprise = get_or_404(self.session, Enterprise, session[CHOSEN], self.scope)
            except OutOfScope:
                session.pop(CHOSEN, None)
        if enterprise is None:
            enterprises = self._enterprises()
            if len(enterprises) != 1:
                return None
            enterprise = enterprises[0]
            session[CHOSEN] = enterprise.id
        return enterprise

    @expose("/")
    @has_access
    def home(self):
        """The chosen enterprise: name, 企业总人数 and the five test-status counts (each a
        link to its people), the 未匹配 note, links to 员工管理."""
        enterprise = self._chosen()
        if enterprise is None:
            return redirect(url_for("HeadView.select"))
        counts = health_status.bucket_counts(self.session, self.scope, enterprise.id)
        return self.render_template(
            "sentinel/head_home.html", e=enterprise, total=counts.total, counts=counts, ranges=BUCKET_RANGES,
            source_note=str(DATA_SOURCE_NOTE) % {"days": health_status.window().days},
            note=UNMATCHED_NOTE, logout_url=self.appbuilder.get_url_for_logout, title=enterprise.name,
            broken=compliance.count_broken(self.session, self.scope, enterprise_id=enterprise.id),
            may_write=staff_service.may_write_in(self.session, self.scope, enterprise.id),
        )

    @expose("/people")
    @has_access
    def people(self):
        """The chosen enterprise's staff (phone list), ?bucket= one test-status bucket."""
        enterprise = self._chosen()
        if enterprise is None:
            return redirect(url_for("HeadView.select"))
        bucket = health_status.parse_bucket(request.args.get("bucket"))
        page, size = self.paging()
        result = health_status.list_page(self.session, self.scope, None, page, size, enterprise.id, bucket)
        unmatched = bucket == BUCKET_UNMATCHED
        full_ids = unmatched and personal_data.sees_full_ids_when_unmatched(r.name for r in g.user.roles)
        if full_ids:
            staff_service.record_full_id_read(self.session, [s.id for s in result.items], _("未匹配人员：完整证件号码"))
        return self.render_template(
            "sentinel/head_people.html", e=enterprise, page=result, bucket=bucket,
            bucket_label=health_status.bucket_label(bucket) if bucket else None,
            note=UNMATCHED_NOTE if unmatched else None, hints=UNMATCHED_HINTS if unmatched else (),
            mask_id=(lambda value: value) if full_ids else mask_id, title=enterprise.name,
        )

    @expose("/staff")
    @has_access
    def staff(self):
        """员工管理 on the phone (seed 000 §2.3–2.4): search, "X企业，工作人员：N", name and
        联系电话 (masked) 10 per page, 下载模板 / 导入 / 新增 / 删除本页; a person opens 人员信息."""
        enterprise = self._chosen()
        if enterprise is None:
            return redirect(url_for("HeadView.select"))
        q = request.args.get("q", "").strip()
        page, _size = self.paging()
        result = staff_service.list_page(self.session, self.scope, q, page, self.STAFF_PAGE_SIZE, enterprise.id)
        total = result.total if not q else staff_service.list_page(
            self.session, self.scope, None, 1, 1, enterprise.id).total
        return self.render_template(
            "sentinel/head_staff.html", e=enterprise, page=result, q=q, total=total,
            mask_phone=mask_phone, title=_("工作人员信息"),
            may_write=staff_service.may_write_in(self.session, self.scope, enterprise.id),
        )

    @expose("/people/<int:pk>")
    @has_access
    def person(self, pk: int):
        """One person on the phone: registry data, 核酸检测 and 疫苗接种 (the read is audited)."""
        person, health = staff_service.read_detail(
            self.session, self.scope, pk, options=health_status.WITH_SUMMARY,
            reading=lambda p: (p, health_status.person_health(self.session, p)),
        )
        id_number, phone = personal_data.detail_numbers(self.scope.full_numbers, person.id_number, person.phone)
        return self.render_template(
            "sentinel/head_person.html", s=person, health=health, id_number=id_number, phone=phone,
            compliance=compliance.person_compliance(self.session, person.id),
            bucket=health_status.parse_bucket(request.args.get("bucket")),
            from_staff=request.args.get("from") == "staff", title=person.name,
            may_write=staff_service.may_write_in(self.session, self.scope, person.enterprise_id),
        )
