"""A password someone else set (the admin, creating the account or resetting its
password) is replaced by the user at their first login.

While ``SentinelUser.must_change_password`` is set, every page but 修改密码 itself,
logging out and static files redirects to 修改密码; API requests of that session get
403 with :data:`MSG_CHANGE_ON_WEB`, and so does the API login (no token is issued).
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _
from flask_login import current_user

MSG_CHANGE_ON_WEB = _("请先在网页上登录并修改初始密码，再使用接口")
MSG_CHANGE_FIRST = _("这是管理员为您设置的初始密码，请先设置您自己的新密码")

# endpoints of Flask and FAB that never need a user with a password of their own
_ALWAYS_OPEN = frozenset({"static", "appbuilder.static", "LocaleView.index"})


def must_change(user) -> bool:
    """Whether ``user`` (a user, an anonymous one or None) still has a password set by someone else."""
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and getattr(user, "must_change_password", False))


def may_open(endpoint: str | None, open_endpoints: frozenset[str]) -> bool:
    """Whether a user who must change their password may still reach ``endpoint``."""
    return endpoint in _ALWAYS_OPEN or endpoint in open_endpoints


def change_endpoint() -> str:
    return current_app.appbuilder.sm.resetmypasswordview.__name__ + ".this_form_get"


def _open_endpoints() -> frozenset[str]:
    sm = current_app.appbuilder.sm
    change = sm.resetmypasswordview.__name__
    auth = sm.auth_view.__class__.__name__
    return frozenset({f"{change}.this_form_get", f"{change}.this_form_post", f"{auth}.logout", f"{auth}.login"})


def _enforce():
    """before_request: send a user who must change their password to 修改密码."""
    if request.endpoint in _ALWAYS_OPEN or not must_change(current_user):
        return None  # static files first: they never load the user
    if may_open(request.endpoint, _open_endpoints()):
        return None
    if request.path.startswith("/api/"):
        return jsonify(message=str(MSG_CHANGE_ON_WEB)), 403
    return redirect(url_for(change_endpoint()))


def init_app(app: Flask) -> None:
    real = app._get_current_object() if hasattr(app, "_get_current_object") else app
    real.before_request(_enforce)
