"""Cross-cutting HTTP behaviour: security headers, errors as JSON or pages.

The errors of app/domain/errors.py map to answers here: ``OutOfScope`` → 404 (exactly
like a missing row), a ``ServiceError`` → its status with its message (and the fields'
reasons in JSON), CSRF failures → 400, anything unexpected → 500, logged. An API path or
a JSON client gets ``{"message": …}``, a browser the error page.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from app.domain.errors import OutOfScope, ServiceError
from app.platform import csp, security_events

log = logging.getLogger(__name__)

MESSAGES = {
    400: _("请求有误"),
    401: _("请先登录"),
    403: _("没有权限执行此操作"),
    404: _("数据不存在或无权访问"),
    405: _("不支持的请求方式"),
    409: _("数据冲突"),
    413: _("上传的文件过大"),
    429: _("操作过于频繁，请稍后再试"),
    500: _("系统繁忙，请稍后再试"),
}


ROW_ID_DIGITS = 18  # below the 64-bit limit of SQLite's INTEGER and PostgreSQL's bigint, far past any real id


class RowIdConverter(IntegerConverter):
    """``<int:…>`` of every route: a number of more than :data:`ROW_ID_DIGITS` digits names
    no row, so the route does not match it (404); SQLite refused to bind one past 64 bits
    (OverflowError) and every page and API answered 500. (The bound is in the pattern, not
    a ``max``: werkzeug answers 405 when a value fails one route's conversion and another
    method's route has the same pattern.)"""

    regex = r"\d{1,%d}" % ROW_ID_DIGITS


def is_row_id(value: object) -> bool:
    """Whether ``value`` (a URL part) can be a row's id: 1 to :data:`ROW_ID_DIGITS` ASCII digits."""
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= ROW_ID_DIGITS


def use_row_ids(app: Flask) -> None:
    """Before any view is registered: the bounded ``int`` converter."""
    app.url_map.converters["int"] = RowIdConverter


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, message=None):
    text = str(message or MESSAGES.get(status, MESSAGES[500]))
    if wants_json():
        return jsonify(message=text), status
    # FAB's layout needs ``appbuilder`` in the context (BaseView.render_template adds it)
    # and ``g.user``, which FAB sets in a before_request hook that an early refusal
    # (CSRF, size limit) never reached.
    if not hasattr(g, "user"):
        g.user = current_user
    appbuilder = current_app.appbuilder
    return render_template(
        "sentinel/error.html", status=status, message=text,
        appbuilder=appbuilder, base_template=appbuilder.base_template,
    ), status


def init_app(app: Flask) -> None:
    csp.init_app(app)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", csp.policy(csp.used_nonce()))
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.errorhandler(OutOfScope)
    def _out_of_scope(err: OutOfScope):
        security_events.record(security_events.OUT_OF_SCOPE, entity=err.model, entity_id=err.target_id)
        return error_response(404)

    @app.errorhandler(ServiceError)
    def _service(err: ServiceError):
        if wants_json():
            return jsonify(err.as_dict()), err.status
        return error_response(err.status, err.message)

    @app.errorhandler(CSRFError)
    def _csrf(_err):
        return error_response(400, _("页面已过期或请求来源无效，请刷新页面后重试"))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if err.code in (301, 302, 303, 307, 308):
            return err
        if err.code == 429 and getattr(getattr(err, "limit", None), "error_message", None):
            return error_response(429, err.description)  # a limit with its own (Chinese) message
        return error_response(err.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)
