"""Flask-AppBuilder's account screens, subclassed: the admin's user form (what a
government account needs), 修改密码 (own password, old one required), the admin's
password reset and the own-name edit. Rules live in ``accounts``, ``passwords`` and
``password_change``; these classes render and save.

Every password goes through FAB's PasswordComplexityValidator, i.e.
``app.security.passwords.validate_password``. Creating an account or resetting its
password flags it (``must_change_password``); the user's own change clears the flag.
Creation, edits, deletion and every password change or reset are audited (never a
password; phones masked).
"""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
from flask_appbuilder.fieldwidgets import (
    BS3PasswordFieldWidget, BS3TextFieldWidget, Select2ManyWidget, Select2Widget,
)
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.sqla.filters import FilterNotEqual
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.sqla.models import Role
from flask_appbuilder.security.views import (
    ResetMyPasswordView, ResetPasswordView, RoleModelView, UserDBModelView, UserGroupModelView, UserInfoEditView,
)
from flask_appbuilder.validators import PasswordComplexityValidator
from flask_babel import lazy_gettext as _
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from app.platform import audit
from app.domain.errors import RuleError
from app.domain.identity import normalize_phone
from app.platform.extensions import db
from app.platform.http import is_row_id
from app.platform.operations import transaction
from app.platform.templating import shown
from app.security import accounts, credential_stamp
from app.security import roles as R
from app.security.passwords import policy_description
from app.security.password_change import MSG_CHANGE_FIRST, must_change
from models.organisations import Bureau
from models.regions import Town
from models.mixins import utcnow
from models.users import SentinelUser

MSG_WRONG_OLD = _("原密码不正确")
MSG_SAME = _("新密码不能与原密码相同")
MSG_MISMATCH = _("两次输入的新密码不一致")
MSG_HEAD_NO_PASSWORD = _("企业负责人使用短信验证码登录，没有密码")
AUDITED = ("username", "first_name", "active", "phone", "must_change_password")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _blank_to_none(value):
    return value or None


def _role_names(roles) -> str:
    return str(_("、")).join(R.role_label(r.name) for r in roles or [])


# --- fields and validators ------------------------------------------------------------

class _Unused:
    """The value is no other account's (``column`` of ab_user); the edited one is itself."""

    def __init__(self, column: str, message):
        self.column, self.message = column, message

    def __call__(self, form, field):
        if field.data in (None, ""):
            return
        other = db.session.execute(
            select(SentinelUser.id).where(getattr(SentinelUser, self.column) == field.data)).scalar()
        if other is not None and other != getattr(form, "_id", None):
            raise ValidationError(str(self.message))


def _phone(_form, field):
    if field.data is None:
        return
    try:
        field.data = normalize_phone(field.data)
    except RuleError as err:
        raise ValidationError(str(err.message)) from None


class _AccountRules:
    """The roles field's check of the whole account (``accounts.role_problems``)."""

    def __init__(self, adding: bool):
        self.adding = adding

    def __call__(self, form, field):
        problems = accounts.role_problems(
            [r.name for r in field.data or []], adding=self.adding, has_bureau=form.bureau.data is not None,
            has_town=form.town.data is not None, has_phone=bool(form.phone.data))
        if problems:
            raise ValidationError(str(problems[0]))


def _role_rows(include_head: bool):
    def query():
        stmt = select(Role).where(Role.name != R.PUBLIC).order_by(Role.id)
        if not include_head:
            stmt = stmt.where(Role.name != R.ENTERPRISE_HEAD)
        return db.session.execute(stmt).scalars().all()

    return query


def _roles(include_head: bool):
    return QuerySelectMultipleField(
        _("角色"), query_func=_role_rows(include_head), get_pk_func=lambda role: role.id,
        get_label=lambda role: R.role_label(role.name),
        validators=[_AccountRules(adding=not include_head)], widget=Select2ManyWidget(),
    )


def _role_filter():
    """用户管理's search by role: the roles by their Chinese names."""
    return QuerySelectField(
        _("角色"), query_func=_role_rows(include_head=True), get_pk_func=lambda role: role.id,
        get_label=lambda role: R.role_label(role.name), allow_blank=True, widget=Select2Widget(extra_classes="readonly"),
    )


def _link(label, model, order):
    """委办局 / 镇街: one of the rows, or none."""
    return QuerySelectField(
        label, query_func=lambda: db.session.execute(select(model).order_by(*order)).scalars().all(),
        get_pk_func=lambda row: row.id, get_label=lambda row: row.name, allow_blank=True,
        blank_text=_("（无）"), validators=[Optional()], widget=Select2Widget(),
    )


def _new_password(label):
    return PasswordField(
        label, description=LazyString(policy_description), widget=BS3PasswordFieldWidget(),
        validators=[DataRequired(message=_("请输入新密码")), PasswordComplexityValidator()],
    )


def _confirmation(label):
    return PasswordField(label, widget=BS3PasswordFieldWidget(), validators=[
        DataRequired(message=_("请再次输入新密码")), EqualTo("password", message=MSG_MISMATCH)])


def _account_fields(adding: bool) -> dict[str, Any]:
    fields = {
        "first_name": StringField(_("姓名"), filters=[_strip], widget=BS3TextFieldWidget(), validators=[
            DataRequired(message=_("请输入姓名")), Length(max=64, message=_("姓名不能超过64个字"))]),
        "username": StringField(_("用户名"), filters=[_strip], widget=BS3TextFieldWidget(), validators=[
            DataRequired(message=_("请输入用户名")), Length(max=64, message=_("用户名不能超过64个字符")),
            _Unused("username", _("该用户名已被使用"))]),
        "phone": StringField(
            _("手机号码"), filters=[_strip, _blank_to_none], widget=BS3TextFieldWidget(),
            description=_("企业负责人以此号码登录；政府工作人员可不填"),
            validators=[_phone, _Unused("phone", _("该手机号码已被其他账号使用"))]),
        "roles": _roles(include_head=not adding),
        "bureau": _link(_("委办局"), Bureau, (Bureau.id,)),
        "town": _link(_("镇街"), Town, (Town.sort_order, Town.id)),
    }
    if adding:
        fields["password"] = _new_password(_("初始密码"))
        fields["conf_password"] = _confirmation(_("确认初始密码"))
    return fields


class ChangePasswordForm(DynamicForm):
    """修改密码: the old password, the new one twice."""

    old_password = PasswordField(_("原密码"), widget=BS3PasswordFieldWidget(),
                                 validators=[DataRequired(message=_("请输入原密码"))])
    password = _new_password(_("新密码"))
    conf_password = _confirmation(_("确认新密码"))

    def validate_old_password(self, field):
        if not check_password_hash(g.user.password or "", field.data or ""):
            raise ValidationError(str(MSG_WRONG_OLD))

    def validate_password(self, field):
        if field.data and field.data == self.old_password.data:
            raise ValidationError(str(MSG_SAME))


class ResetPasswordForm(DynamicForm):
    """The admin's reset: the new password twice (the user must change it at login)."""

    password = _new_password(_("新密码"))
    conf_password = _confirmation(_("确认新密码"))


class OwnNameForm(DynamicForm):
    first_name = StringField(_("姓名"), filters=[_strip], widget=BS3TextFieldWidget(), validators=[
        DataRequired(message=_("请输入姓名")), Length(max=64, message=_("姓名不能超过64个字"))])


# --- audit ---------------------------------------------------------------------------

def _values(user: SentinelUser) -> dict[str, Any]:
    """The audited values of an account (no password; the phone masked)."""
    values = {name: getattr(user, name) for name in AUDITED}
    values["roles"] = sorted(r.name for r in user.roles or [])
    values["bureau"] = user.bureau.name if user.bureau else None
    values["town"] = user.town.name if user.town else None
    return accounts.audit_view(values)


# --- views -----------------------------------------------------------------------------

def _account_page(pk: int) -> str:
    """The admin's page of one account (用户信息, with 重置密码)."""
    return url_for(current_app.appbuilder.sm.user_view.__class__.__name__ + ".show", pk=pk)


MSG_DELETE_SELF = _("不能删除自己的账号")
MSG_KEEP_OWN_ADMIN = _("不能停用自己的账号或取消自己的区管理员角色")


class AccountRefused(Exception):
    """An account change refused; FAB shows the message (str) on the page it returns to."""

    def __init__(self, message: LazyString):
        super().__init__(str(message))


def _row_id_or_404():
    pk = (request.view_args or {}).get("pk")
    if pk is not None and not is_row_id(pk):
        abort(404)


class _RowIdPk:
    """FAB's ``<pk>`` routes (show, edit, delete, actions) take any text: one that cannot be
    a row's id is a 404 (a number past 64 bits was a 500 on SQLite)."""

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(_row_id_or_404)
        return blueprint


class SentinelUserDBModelView(_RowIdPk, UserDBModelView):
    """用户管理: the district admin's accounts; 用户信息: anyone's own.

    An admin never deletes or deactivates their own account nor takes their own 区管理员
    role away (another admin may): the district would be left without its admin."""

    list_columns = ["first_name", "username", "roles", "bureau", "town", "active"]
    search_columns = ["first_name", "username", "roles", "bureau", "town", "active"]
    show_fieldsets = [
        (_("用户信息"), {"fields": ["first_name", "username", "phone", "roles", "bureau", "town", "active",
                                "must_change_password"]}),
        (_("审计"), {"fields": ["last_login", "login_count", "fail_login_count", "created_on", "changed_on"],
                   "expanded": False}),
    ]
    # the own-profile page (用户信息): only fields that show_fieldsets has, or FAB fails
    user_show_fieldsets = [
        (_("用户信息"), {"fields": ["first_name", "username", "roles", "bureau", "town", "phone"],
                     "expanded": True}),
    ]
    add_columns = ["first_name", "username", "phone", "roles", "bureau", "town", "active", "password", "conf_password"]
    edit_columns = ["first_name", "username", "phone", "roles", "bureau", "town", "active"]
    search_form_extra_fields = {"roles": _role_filter()}
    add_form_extra_fields = _account_fields(adding=True)
    edit_form_extra_fields = _account_fields(adding=False)
    validators_columns: dict = {}  # FAB's roles-or-groups check reads a groups field these forms lack
    label_columns = {
        "first_name": _("姓名"), "username": _("用户名"), "phone": _("手机号码"), "roles": _("角色"),
        "bureau": _("委办局"), "town": _("镇街"), "active": _("启用"),
        "password": _("初始密码"), "conf_password": _("确认初始密码"), "must_change_password": _("须修改密码"),
        "last_login": _("最后登录时间"), "login_count": _("登录次数"), "fail_login_count": _("连续登录失败次数"),
        "created_on": _("创建时间"), "changed_on": _("修改时间"),
    }
    description_columns = {
        "active": _("停用的账号不能登录"),
        "password": _("用户首次登录时须修改此密码"),
    }
    # roles by their Chinese names, no None/True, local times
    formatters_columns = {**{column: shown for column in label_columns}, "roles": _role_names}
    list_title = _("用户管理")
    show_title = _("用户信息")
    add_title = _("新增用户")
    edit_title = _("编辑用户")
    user_info_title = _("用户信息")

    add_template = "sentinel/user_add.html"
    edit_template = "sentinel/user_edit.html"

    def render_template(self, template, **kwargs):
        if template in (self.add_template, self.edit_template):  # which role shows 委办局, which 镇街
            sm = self.appbuilder.sm
            kwargs["role_links"] = {field: getattr(sm.find_role(role), "id", None)
                                    for field, role in (("bureau", R.BUREAU), ("town", R.TOWN))}
        return super().render_template(template, **kwargs)

    @action("resetmypassword", _("修改密码"), "", "fa-lock", multiple=False)
    def resetmypassword(self, item):
        return redirect(url_for(self.appbuilder.sm.resetmypasswordview.__name__ + ".this_form_get"))

    @action("userinfoedit", _("修改姓名"), "", "fa-edit", multiple=False)
    def userinfoedit(self, item):
        return redirect(url_for(self.appbuilder.sm.userinfoeditview.__name__ + ".this_form_get"))

    @action("resetpasswords", _("重置密码"), "", "fa-lock", multiple=False)
    def resetpasswords(self, item):
        return redirect(url_for(self.appbuilder.sm.resetpasswordview.__name__ + ".this_form_get", pk=item.id))

    def post_add_redirect(self):
        return redirect(url_for(f"{self.__class__.__name__}.list"))  # not back to where the admin came from

    @staticmethod
    def _drop_unused_links(item):
        """委办局 and 镇街 only on accounts whose roles use them (the form hides the other)."""
        names = {r.name for r in item.roles or []}
        if R.BUREAU not in names:
            item.bureau = None
        if R.TOWN not in names:
            item.town = None

    def pre_add(self, item):
        item.created_on = item.changed_on = utcnow()  # FAB's default is the server's local clock
        self._drop_unused_links(item)
        item.last_name = ""
        item.email = accounts.placeholder_email(item.username)
        item.must_change_password = True
        super().pre_add(item)  # hashes the password

    def post_add(self, item):
        with transaction():  # after FAB committed the account: the audit row in one of its own
            audit.record("create", "User", item.id, after=_values(item), detail=item.username)

    def _edit(self, pk):
        if request.method == "POST":  # the values before the form changes them, for the audit
            item = self.datamodel.get(pk, self._base_filters)
            g.account_before = _values(item) if item is not None else None
        return super()._edit(pk)

    def pre_update(self, item):
        if item.id == g.user.id and (not item.active or R.DISTRICT_ADMIN not in {r.name for r in item.roles or []}):
            self.datamodel.session.expire(item)  # the form's values are dropped, never flushed
            raise AccountRefused(MSG_KEEP_OWN_ADMIN)
        super().pre_update(item)
        item.changed_on = utcnow()
        self._drop_unused_links(item)
        item.last_name = item.last_name or ""
        if accounts.is_placeholder_email(item.email):
            item.email = accounts.placeholder_email(item.username)

    def post_update(self, item):
        with transaction():
            audit.record("update", "User", item.id, before=g.pop("account_before", None), after=_values(item),
                         detail=item.username)

    def pre_delete(self, item):
        if item.id == g.user.id:
            raise AccountRefused(MSG_DELETE_SELF)
        g.account_before = (item.id, item.username, _values(item))  # gone from the session after the delete

    def post_delete(self, item):
        pk, username, before = g.pop("account_before")
        with transaction():
            audit.record("delete", "User", pk, before=before, detail=username)


class SentinelRoleModelView(_RowIdPk, RoleModelView):
    """角色: the roles are defined in code (app/security/roles.py), so the admin reads them
    (their Chinese names, how many accounts hold each, those accounts) and edits nothing."""

    base_permissions = ["can_list", "can_show"]
    base_filters = [["name", FilterNotEqual, R.PUBLIC]]  # FAB's role of the signed-out: no account has it
    copy_role = None  # FAB's 复制角色 action: no role is made here
    list_template = "sentinel/fab_list_plain.html"  # nine fixed rows: no search panel
    list_widget = ListWidget  # FAB's role widgets list the permission rows; these show the columns below
    show_widget = ShowWidget
    list_columns = ["name", "user"]
    show_columns = ["name", "user"]
    search_columns = ["name"]
    label_columns = {"name": _("角色"), "user": _("账号数")}
    formatters_columns = {"name": R.role_label, "user": lambda users: len(users or [])}
    list_title = _("角色")
    show_title = _("角色信息")


class SentinelGroupModelView(UserGroupModelView):
    """FAB's user groups, closed to everyone: an account's roles are its own (scope and the
    menus read them), so a group lending roles would grant what the scope does not know."""

    base_permissions: list = []


class SentinelResetMyPasswordView(ResetMyPasswordView):
    """修改密码 of the signed-in user (every account with a password)."""

    class_permission_name = R.ACCOUNT
    method_permission_name = {"this_form_get": "read", "this_form_post": "write"}
    form = ChangePasswordForm
    form_title = _("修改密码")

    def form_get(self, form):
        if must_change(g.user):
            flash(str(MSG_CHANGE_FIRST), "warning")

    def form_post(self, form):
        sm = self.appbuilder.sm
        user = sm.get_user_by_id(g.user.id)
        user.must_change_password = False
        audit.record("password_change", "User", user.id, detail=user.username)
        sm.reset_password(user.id, form.password.data)  # hashes and commits, with the audit row
        credential_stamp.renew_session(user)  # this login stays; every other one ends
        flash(str(_("密码已修改")), "success")
        return redirect(self.appbuilder.get_url_for_index)


class SentinelResetPasswordView(ResetPasswordView):
    """The district admin sets another user's password (?pk=); they must change it at login."""

    form = ResetPasswordForm
    form_title = _("重置密码")

    def _target(self) -> SentinelUser:
        pk = request.args.get("pk", "")
        user = self.appbuilder.sm.get_user_by_id(int(pk)) if is_row_id(pk) else None
        if user is None:
            abort(404)
        return user

    def _refusal(self, user: SentinelUser):
        if accounts.has_password(r.name for r in user.roles):
            return None
        flash(str(MSG_HEAD_NO_PASSWORD), "warning")
        return redirect(_account_page(user.id))

    @expose("/form", methods=["GET"])
    @has_access
    def this_form_get(self):
        return self._refusal(self._target()) or super().this_form_get()

    @expose("/form", methods=["POST"])
    @has_access
    def this_form_post(self):
        return self._refusal(self._target()) or super().this_form_post()

    def form_post(self, form):
        sm = self.appbuilder.sm
        user = self._target()
        user.must_change_password = user.id != g.user.id
        audit.record("password_reset", "User", user.id, detail=user.username)
        sm.reset_password(user.id, form.password.data)  # hashes and commits, with the audit row
        if user.id == g.user.id:
            credential_stamp.renew_session(user)  # the admin's own login stays
        flash(str(_("密码已重置，用户下次登录时须修改密码")), "success")
        return redirect(_account_page(user.id))


class SentinelUserInfoEditView(UserInfoEditView):
    """修改姓名 of the signed-in user."""

    route_base = "/userinfoeditview"
    class_permission_name = R.ACCOUNT
    method_permission_name = {"this_form_get": "read", "this_form_post": "write"}
    form = OwnNameForm
    form_title = _("修改姓名")

    def form_post(self, form):
        sm = self.appbuilder.sm
        user = sm.get_user_by_id(g.user.id)
        before = user.first_name
        user.first_name = form.first_name.data
        audit.record("update", "User", user.id, before={"first_name": before}, after={"first_name": user.first_name},
                     detail=user.username)
        sm.update_user(user)
        flash(str(_("已保存")), "success")
        return redirect(self.appbuilder.get_url_for_userinfo)
