"""The security manager: FAB's, subclassed (never forked)."""
from __future__ import annotations

import logging
import re

from flask import flash, g, jsonify, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, UserDBModelView
from flask_appbuilder.security.decorators import no_cache
from flask_babel import lazy_gettext as _
from sqlalchemy.orm import joinedload

from app.platform.audit import record
from app.security import lockout, sessions
from models.users import SentinelUser

log = logging.getLogger(__name__)


class SentinelUserDBModelView(UserDBModelView):
    """User admin with what scopes a user: bureau, town, head phone."""

    SCOPE_COLUMNS = ["bureau", "town", "phone"]
    list_columns = ["first_name", "last_name", "username", "roles", "bureau", "town", "active"]
    show_fieldsets = [
        (_("用户信息"), {"fields": ["first_name", "last_name", "username", "active", "roles"] + SCOPE_COLUMNS}),
        (_("审计"), {"fields": ["last_login", "login_count", "fail_login_count", "created_on", "changed_on"], "expanded": False}),
    ]
    # the own-profile page (个人信息): only fields that show_fieldsets has, or FAB fails
    user_show_fieldsets = [
        (_("用户信息"), {"fields": ["username", "active", "roles", "login_count"]}),
        (_("个人信息"), {"fields": ["first_name", "last_name", "phone"], "expanded": True}),
    ]
    add_columns = ["first_name", "last_name", "username", "active", "email", "roles"] + SCOPE_COLUMNS + ["password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "roles"] + SCOPE_COLUMNS
    label_columns = {"bureau": _("委办局"), "town": _("镇街"), "phone": _("手机号码")}


LOCKED = _("登录失败次数过多，账号已暂时锁定，请稍后再试")


class SentinelAuthDBView(AuthDBView):
    """Password login with lock-out and a Chinese message for each refusal."""

    login_template = "sentinel/login_db.html"  # FAB's form plus the link to the heads' SMS login
    invalid_login_message = _("用户名或密码错误，请重试")

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        if request.method == "POST":
            username = request.form.get("username", "")
            if username and lockout.is_locked(username):
                flash(str(LOCKED), "warning")
                return redirect(self.appbuilder.get_url_for_login)
        return super().login()

    @expose("/logout/", methods=["GET", "POST"])
    @no_cache
    def logout(self):
        """Logging out changes state, so only a POST (CSRF-checked like every POST) does it.

        A GET (an old bookmark, a link, an <img> on another site) ends nothing: a signed-in
        user gets a page with the logout button, anyone else the login page.
        """
        if request.method == "POST":
            return super().logout()
        if g.user is None or not g.user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        return self.render_template("sentinel/logout.html", title=_("退出登录"))


class SentinelSecurityApi(SecurityApi):
    """FAB's POST /api/v1/security/login, answering refusals in Chinese."""

    def response_400(self, message=None):
        return self.response(400, message=str(_("请求内容应为 JSON，包含 username、password 和 provider")))

    def response_401(self):
        return self.response(401, message=str(_("用户名或密码错误")))

    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        payload = request.get_json(silent=True)
        username = payload.get("username") if isinstance(payload, dict) else None
        if isinstance(username, str) and username and lockout.is_locked(username):
            return self.response(401, message=str(LOCKED))
        return super().login()


class SentinelSecurityManager(SecurityManager):
    user_model = SentinelUser
    userdbmodelview = SentinelUserDBModelView
    authdbview = SentinelAuthDBView
    security_api = SentinelSecurityApi
    # FAB's "user statistics" chart loads Google Charts from the internet (no CDN: SPEC §8)
    userstatschartview = None

    def is_item_public(self, permission_name, view_name):
        """Whether the public role grants it. Every role is a builtin role defined in
        ``app.security.roles`` (no permission rows), so this reads that table in memory;
        FAB's own version queried the public role and its permission rows on every
        protected request, to find none."""
        grants = self.builtin_roles.get(self.auth_role_public, [])
        return any(re.match(view, view_name) and re.match(permission, permission_name) for view, permission in grants)

    def get_user_by_id(self, pk):
        """The user with their roles and groups read together (every protected request
        needs all three; FAB loaded each relationship on first touch, three queries)."""
        model = self.user_model
        return self.session.get(model, pk, options=[joinedload(model.roles), joinedload(model.groups)])

    def create_login_manager(self, app):
        """FAB's login manager; a session counts only while its login is alive in Redis."""
        manager = super().create_login_manager(app)
        sessions.init_app(app)
        manager.user_loader(self.load_session_user)
        return manager

    def load_session_user(self, pk):
        if not sessions.is_alive(pk):
            return None
        return self.load_user(pk)

    def register_views(self):
        """FAB's views; the API login is rate-limited like the login form."""
        super().register_views()
        if self.is_auth_limited:
            for view in self.appbuilder.baseviews:
                if isinstance(view, SecurityApi):
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)

    def create_jwt_manager(self, app):
        """FAB's JWT manager, answering every token problem with a Chinese {"message"}."""
        manager = super().create_jwt_manager(app)

        def _unauthorized(*_args):
            return jsonify(message=str(_("请先登录"))), 401

        def _expired(*_args):
            return jsonify(message=str(_("登录已过期，请重新登录"))), 401

        manager.unauthorized_loader(_unauthorized)
        manager.invalid_token_loader(_unauthorized)
        manager.expired_token_loader(_expired)
        manager.revoked_token_loader(_unauthorized)
        manager.user_lookup_error_loader(_unauthorized)
        return manager

    def auth_user_db(self, username, password):
        """FAB's check, refused outright while the account is locked out."""
        if username and lockout.is_locked(username):
            return None
        user = super().auth_user_db(username, password)
        if username:
            if user is None:
                lockout.record_failure(username)
            else:
                lockout.clear(username)
        return user

    def on_user_login(self, user) -> None:
        record("login", "User", user.id, detail=user.username, user=user, commit=True)
