"""Security events (SPEC §8, issue 11): refused or throttled access, recorded apart from
the data audit (``models.security_events``) and as one log line each.

An event says who (the signed-in user, if any), when, the client address, the route
(the URL rule, e.g. ``/api/v1/staff/<int:pk>``, never what filled it in) and method,
the kind, what a login or SMS attempt named (``account``) and, for scope and permission
refusals, the model or resource and the id tried.

Never a personal value: no password, SMS code or ID number is handed to :func:`record`;
a phone is masked (``135****6263``); a name typed at a login is kept only when an
account of that name exists (:func:`typed_account`), else masked.

Each event is written in a transaction of its own: the request's pending work is rolled
back first (a refused request keeps nothing, and a failed transaction cannot block the
write), then the event is inserted and committed. If even that fails the log line
remains, and the request goes on as it would have.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Optional

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import lazy_gettext as _
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from app.domain.identity import mask_phone
from app.platform.extensions import db
from models.mixins import utcnow
from models.security_events import SecurityEvent

log = logging.getLogger("sentinel.security")

LOGIN_FAILED = "login_failed"
LOCKOUT = "lockout"
LOCKED_OUT = "locked_out"
LOGIN_DELAYED = "login_delayed"
LOGIN_THROTTLED = "login_throttled"
SMS_CODE_WRONG = "sms_code_wrong"
SMS_CODE_GONE = "sms_code_gone"
SMS_CODE_DEAD = "sms_code_dead"
SMS_RESEND_PAUSE = "sms_resend_pause"
SMS_PHONE_LIMIT = "sms_phone_limit"
SMS_IP_LIMIT = "sms_ip_limit"
SMS_VERIFY_LIMIT = "sms_verify_limit"
OUT_OF_SCOPE = "out_of_scope"
PERMISSION_DENIED = "permission_denied"

# The kinds, in the order the admin's filter offers them, with their Chinese names.
KINDS = {
    LOGIN_FAILED: _("登录失败"),
    LOCKOUT: _("登录锁定"),
    LOCKED_OUT: _("锁定期间尝试登录"),
    LOGIN_DELAYED: _("等待期间尝试登录"),
    LOGIN_THROTTLED: _("登录过于频繁"),
    SMS_CODE_WRONG: _("验证码错误"),
    SMS_CODE_GONE: _("验证码失效"),
    SMS_CODE_DEAD: _("验证码错误次数过多"),
    SMS_RESEND_PAUSE: _("重复获取验证码过快"),
    SMS_PHONE_LIMIT: _("手机号获取验证码超限"),
    SMS_IP_LIMIT: _("同一地址获取验证码超限"),
    SMS_VERIFY_LIMIT: _("同一地址校验验证码超限"),
    OUT_OF_SCOPE: _("访问范围外或不存在的数据"),
    PERMISSION_DENIED: _("无权限访问"),
}

_PHONE = re.compile(r"\+?\d{11,14}")


def mask_account(text: Any) -> Optional[str]:
    """What a login attempt named, masked: a phone as ``135****6263``, anything else
    as its first character and ``***`` (length hidden). None for nothing typed."""
    value = "" if text is None else str(text).strip()
    if not value:
        return None
    if _PHONE.fullmatch(value):
        return mask_phone(value[-11:])
    return value[0] + "***"


def typed_account(typed: Any) -> Optional[str]:
    """The account a login attempt named: its user name when a user of that name (or of
    that e-mail address) exists, otherwise the typed text masked."""
    if not isinstance(typed, str) or not typed.strip():
        return None
    sm = current_app.appbuilder.sm
    # both looked up whatever the first finds: the time taken says nothing either way
    by_name, by_email = sm.find_user(username=typed), sm.find_user(email=typed)
    user = by_name or by_email
    return user.username if user is not None else mask_account(typed)


def _signed_in_user() -> Any:
    user = getattr(g, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _route() -> Optional[str]:
    rule = request.url_rule
    return rule.rule[:200] if rule is not None else None


def record(
    kind: str,
    *,
    account: Optional[str] = None,
    entity: Optional[str] = None,
    entity_id: Any = None,
    detail: Optional[str] = None,
) -> None:
    """Write one security event of ``kind`` (one of :data:`KINDS`) and commit it, after
    rolling back whatever the request left pending; log the same fields.

    ``account`` must already be safe to keep (:func:`typed_account`, :func:`mask_account`,
    ``mask_phone``); nothing else a person typed is passed in.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    in_request = has_request_context()
    user = _signed_in_user() if in_request else None
    row = dict(
        at=utcnow(),
        kind=kind,
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", None),
        account=(account or None) and account[:128],
        ip=(request.remote_addr or None) if in_request else None,
        method=request.method if in_request else None,
        route=_route() if in_request else None,
        entity=(entity or None) and str(entity)[:64],
        entity_id=None if entity_id is None else str(entity_id)[:64],
        detail=(detail or None) and detail[:200],
    )
    log.warning(
        "security event %s user=%s account=%s ip=%s %s %s entity=%s id=%s detail=%s",
        kind, row["username"] or "-", row["account"] or "-", row["ip"] or "-", row["method"] or "-",
        row["route"] or "-", row["entity"] or "-", row["entity_id"] or "-", row["detail"] or "-",
    )
    session = db.session
    try:
        session.rollback()
        session.execute(insert(SecurityEvent).values(**row))
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.exception("security event %s could not be stored", kind)


def _refused_permission() -> tuple[Optional[str], Optional[str], Optional[int]]:
    """The resource and permission (``can_write``) of the view that refused, as
    Flask-AppBuilder names them, and the ``pk`` it was asked for."""
    view_func = current_app.view_functions.get(request.endpoint or "")
    view = getattr(view_func, "__self__", None)
    resource = getattr(view, "class_permission_name", None)
    method = getattr(view_func, "__name__", "")
    permission = (getattr(view, "method_permission_name", None) or {}).get(method) \
        or getattr(view_func, "_permission_name", None)
    pk = (request.view_args or {}).get("pk")
    return resource, permission and f"can_{permission}", pk if isinstance(pk, int) else None


def init_app(app: Flask) -> None:
    """Record permission refusals: Flask-AppBuilder answers a signed-in user without the
    permission 403 (``has_access`` pages abort with it, ``protect`` APIs return it), so
    every 403 to a signed-in user is one. A visitor who is not signed in is sent to the
    login page instead; that is no refusal of a permission and is not recorded."""

    @app.after_request
    def _permission_refusals(response):
        if response.status_code == 403 and _signed_in_user() is not None:
            resource, permission, pk = _refused_permission()
            record(PERMISSION_DENIED, entity=resource, entity_id=pk, detail=permission)
        return response
