"""The security manager: FAB's, subclassed (never forked)."""
from __future__ import annotations

import logging
import re

from flask import current_app, flash, g, jsonify, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView
from flask_appbuilder.security.decorators import no_cache
from flask_babel import lazy_gettext as _
from flask_jwt_extended import decode_token
from flask_login import login_user

from app.platform import security_events as events
from app.platform.audit import record
from app.platform.operations import transaction
from app.domain.errors import ServiceError
from app.security import credential_stamp, identities, lockout, password_change, sessions
from app.security.principals import PhonePrincipal, is_phone_subject
from app.security.account_views import (
    SentinelGroupModelView, SentinelResetMyPasswordView, SentinelResetPasswordView, SentinelRoleModelView,
    SentinelUserDBModelView, SentinelUserInfoEditView,
)
from app.security.redirects import redirect_target
from app.security.user_cache import UserCache
from app.security.verified_tokens import VerifyingOnceJWTManager, install_header_memo
from models.mixins import utcnow
from models.users import SentinelUser

log = logging.getLogger(__name__)


def client_address() -> str:
    return request.remote_addr or "-"


def login_refusal(username: object):
    """The lockout's refusal of a password login naming ``username`` from this address
    (recorded as a security event), or None: the attempt goes on to the password check."""
    if not isinstance(username, str) or not username:
        return None
    refused = lockout.refusal(username, client_address())
    if refused is not None:
        events.record(refused.kind, account=events.typed_account(username))
    return refused


class SentinelAuthDBView(AuthDBView):
    """Password login with lock-out, a Chinese message for each refusal, and a ``next``
    that never leaves the site (app/security/redirects.py)."""

    login_template = "sentinel/login_db.html"  # FAB's form plus the link to the heads' SMS login
    invalid_login_message = _("用户名或密码错误，请重试")

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        if request.method == "POST":
            refused = login_refusal(request.form.get("username", ""))
            if refused is not None:
                flash(refused.message, "warning")
                return redirect(self.appbuilder.get_url_for_login)
        return self._login()

    def _get_safe_next_url(self) -> str:
        return redirect_target(request.args.get("next"))

    def _login(self):
        """FAB's AuthDBView.login, with ``next`` checked by app.security.redirects."""
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = self._get_safe_next_url()
            user = self.appbuilder.sm.auth_user_db(form.username.data, form.password.data)
            if not user:
                flash(str(self.invalid_login_message), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            login_user(user, remember=False)
            return redirect(next_url)
        return self.render_template(self.login_template, title=self.title, form=form, appbuilder=self.appbuilder)

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
    """FAB's POST /api/v1/security/login, answering refusals in Chinese.

    Its OpenAPI entries use the ``Message`` and ``ValidationError`` components that
    views/openapi.py registers; ``refresh`` takes the refresh token, no body."""

    openapi_spec_methods = {"refresh": {"post": {"summary": "A new access token for the refresh token",
                                                 "x-no-request-body": True}}}

    def response_400(self, message=None):
        return self.response(400, message=str(_("请求内容应为 JSON，包含 username、password 和 provider")))

    def response_401(self):
        return self.response(401, message=str(_("用户名或密码错误")))

    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        """Log in with a user name and password: a JWT for ``Authorization: Bearer …``.
        ---
        post:
          summary: Log in with a user name and password
          security: []
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [username, password, provider]
                  properties:
                    username: {type: string}
                    password: {type: string, format: password}
                    provider: {type: string, enum: [db]}
                    refresh:
                      type: boolean
                      description: Also answer a refresh token (POST /api/v1/security/refresh)
          responses:
            200:
              description: The tokens
              content:
                application/json:
                  schema:
                    type: object
                    required: [access_token]
                    properties:
                      access_token: {type: string}
                      refresh_token: {type: string}
            400:
              description: Not JSON, or a field missing
              content: {application/json: {schema: {$ref: "#/components/schemas/ValidationError"}}}
            401:
              description: Wrong user name or password, or the account is locked
              content: {application/json: {schema: {$ref: "#/components/schemas/Message"}}}
            403:
              description: The password set by the admin must first be changed on the web
              content: {application/json: {schema: {$ref: "#/components/schemas/Message"}}}
            413:
              description: The request is too large
              content: {application/json: {schema: {$ref: "#/components/schemas/Message"}}}
            429:
              description: Too many attempts from this address or for this name
              headers:
                Retry-After:
                  description: Seconds to wait (during a delay)
                  schema: {type: integer}
              content: {application/json: {schema: {$ref: "#/components/schemas/Message"}}}
        """
        payload = request.get_json(silent=True)
        refused = login_refusal(payload.get("username") if isinstance(payload, dict) else None)
        if refused is not None:
            if refused.wait:  # a delay: try again in so many seconds
                answer = self.response(429, message=refused.message)
                answer.headers["Retry-After"] = str(refused.wait)
                return answer
            return self.response(401, message=refused.message)
        return self._unless_password_must_change(super().login())

    def _unless_password_must_change(self, response):
        """No token for an account whose password the admin set: it is changed on the web first."""
        if response.status_code != 200:
            return response
        user = self.appbuilder.sm.get_user_by_id(int(decode_token(response.json["access_token"])["sub"]))
        if password_change.must_change(user):
            return self.response(403, message=str(password_change.MSG_CHANGE_ON_WEB))
        return response


class SentinelSecurityManager(SecurityManager):
    user_model = SentinelUser
    userdbmodelview = SentinelUserDBModelView
    rolemodelview = SentinelRoleModelView
    groupmodelview = SentinelGroupModelView
    resetmypasswordview = SentinelResetMyPasswordView
    resetpasswordview = SentinelResetPasswordView
    userinfoeditview = SentinelUserInfoEditView
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
        """The user with their roles and groups (every protected request needs all three),
        read in one plain statement and built from this process's kept objects while its
        rows are unchanged (``app.security.user_cache``); FAB's second ask within a request
        is answered from the session's identity map."""
        cache = self.__dict__.get("_user_cache")
        if cache is None:
            cache = self._user_cache = UserCache(self.user_model)
        return cache.get(self.session, pk)

    def create_login_manager(self, app):
        """FAB's login manager; a session counts only while its login is alive in Redis."""
        manager = super().create_login_manager(app)
        sessions.init_app(app)
        password_change.init_app(app)
        manager.user_loader(self.load_session_user)
        return manager

    def load_session_user(self, pk):
        """The session's user while its login is alive and was made with the user's
        current password (``app.security.credential_stamp``)."""
        if not sessions.is_alive(pk):
            return None
        user = self.load_user(pk)
        return user if user is not None and credential_stamp.session_holds(user) else None

    @property
    def is_auth_limited(self) -> bool:
        """False to FAB, whose limit would count its login form alone: ``register_views``
        sets one budget for the form and the API login together instead."""
        return False

    def load_user_jwt(self, _jwt_header, jwt_data):
        """FAB's token user, refused while the admin's password is not yet changed and
        when the token was issued under another password than the user's current one; a
        phone identity's token (app.services.identity) acts for that phone alone."""
        if is_phone_subject(jwt_data.get("sub")):
            try:
                purpose = identities.purpose(jwt_data.get("purpose"))
            except ServiceError:
                return None
            principal = PhonePrincipal(purpose.name, str(jwt_data.get("phone") or ""), purpose.dimension)
            g.user = principal
            return principal
        user = super().load_user_jwt(_jwt_header, jwt_data)
        if user is None or password_change.must_change(user):
            return None
        return user if credential_stamp.holds(user, jwt_data.get(credential_stamp.CLAIM)) else None

    def token_claims(self, identity) -> dict:
        """Claims of every JWT issued for a user (``additional_claims_loader``): the stamp of
        the password it was issued under, so a password change or reset ends it."""
        if isinstance(identity, int) or (isinstance(identity, str) and identity.isdigit()):
            user = self.get_user_by_id(int(identity))
            if user is not None:
                return credential_stamp.token_claims(user)
        return {}

    def register_views(self):
        """FAB's views; one login budget per client address, ``AUTH_RATE_LIMIT`` for the
        login form and the API login together (429 in Chinese, a security event); 修改密码
        (it checks the old password) is limited like a login."""
        super().register_views()
        self._menu_without_groups()
        if not current_app.config["AUTH_RATE_LIMITED"]:
            return
        api = next(v for v in self.appbuilder.baseviews if isinstance(v, SecurityApi))
        logins = {f"{self.auth_view.endpoint}.login", f"{api.endpoint}.login"}
        budget = self.limiter.shared_limit(
            current_app.config["AUTH_RATE_LIMIT"], scope="login", methods=["POST"],
            exempt_when=lambda: request.endpoint not in logins,
            on_breach=lambda _limit: events.record(events.LOGIN_THROTTLED),
        )
        for view in (self.auth_view, api):
            budget(view.blueprint)
        for view in self.appbuilder.baseviews:
            if isinstance(view, SentinelResetMyPasswordView):
                self.limiter.limit(current_app.config["AUTH_RATE_LIMIT"], methods=["POST"])(view.blueprint)

    def _menu_without_groups(self):
        """用户权限 lists 用户管理 and 角色 only: user groups are closed
        (SentinelGroupModelView), and the permission tables are empty (builtin roles,
        config FAB_ADD_SECURITY_*_VIEW)."""
        menu = self.appbuilder.menu.find("Security")
        if menu is not None:
            menu.childs = [item for item in menu.childs if item.name not in ("List Groups", "-")]

    def create_jwt_manager(self, app):
        """FAB's JWT manager (each token string verified once per process:
        ``app.security.verified_tokens``), answering every token problem with a Chinese
        {"message"}."""
        manager = VerifyingOnceJWTManager()
        manager.init_app(app)
        install_header_memo()
        manager.user_lookup_loader(self.load_user_jwt)
        manager.additional_claims_loader(self.token_claims)

        def _unauthorized(*_args):
            return jsonify(message=str(_("请先登录"))), 401

        def _expired(*_args):
            return jsonify(message=str(_("登录已过期，请重新登录"))), 401

        manager.unauthorized_loader(_unauthorized)
        manager.invalid_token_loader(_unauthorized)
        manager.expired_token_loader(_expired)
        manager.revoked_token_loader(_expired)  # a page's token whose login ended
        manager.token_in_blocklist_loader(sessions.token_login_ended)
        manager.user_lookup_error_loader(_unauthorized)
        return manager

    def auth_user_db(self, username, password):
        """FAB's check, refused outright while this address is locked out for the name or
        the name's delay runs (both login paths refused earlier, with the reason); a wrong
        password counted and recorded, the lock it may start too."""
        ip = client_address()
        if username and lockout.refusal(username, ip) is not None:
            return None
        user = super().auth_user_db(username, password)
        if username:
            if user is None:
                locks = lockout.record_failure(username, ip)
                account = events.typed_account(username)
                events.record(events.LOGIN_FAILED, account=account)
                if locks:
                    events.record(events.LOCKOUT, account=account)
            else:
                lockout.clear(username, ip)
        return user

    def on_user_login(self, user) -> None:
        with transaction():
            user.last_login = utcnow()  # FAB wrote the server's local clock; stored times are UTC
            record("login", "User", user.id, detail=user.username, user=user)
