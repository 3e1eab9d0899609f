"""The checkpoint's scan screen (卡口工作人员, phone): ``/checkpoint/``.

The page is a shell: its script (static/js/sentinel-checkpoint.js) decodes the QR with
the vendored jsQR (or takes the typed code) and calls the public JSON APIs,
``POST /api/v1/checkpoint/scan`` and ``/decide``, which own every rule. Those APIs take a
Bearer token, never the cookie (they are CSRF-exempt like every API): the page carries a
token of the signed-in account and ``/checkpoint/token`` renews it while the login lasts.
"""
from __future__ import annotations

from flask import g, jsonify
from flask_appbuilder import expose, has_access
from flask_jwt_extended import create_access_token

from app.domain.i18n import _
from app.security import roles as R
from app.security import sessions
from views.base import ScopedView
from views.booking_texts import OTHER_REASON, REASONS, booking_labels


def page_token() -> str:
    """A JWT of the signed-in account (FAB's identity: the user id), not fresh, good only
    while this login lasts (a logout ends it at once: ``sessions.login_claims``)."""
    return create_access_token(identity=str(g.user.id), fresh=False, additional_claims=sessions.login_claims())


class CheckpointView(ScopedView):
    route_base = "/checkpoint"
    class_permission_name = R.CHECKPOINT_SCAN
    method_permission_name = {"scan": "read", "token": "read"}
    default_view = "scan"

    @expose("/")
    @has_access
    def scan(self):
        """扫码核验: camera or typed code, the driver's labels, 允许通行 / 不予通行."""
        texts = {
            "booking": booking_labels(), "other": str(OTHER_REASON),
            "failed": str(_("网络异常，请稍后再试")), "enter_code": str(_("请输入通行码")),
            "checking": str(_("正在核验…")), "no_camera": str(_("此浏览器无法使用摄像头，请输入通行码")),
            "camera_refused": str(_("无法打开摄像头，请允许使用摄像头或输入通行码")),
            "aim": str(_("请将二维码置于取景框内")), "allowed": str(_("已允许通行")),
            "denied": str(_("已不予通行")), "reason_required": str(_("请选择或填写不予通行原因")),
        }
        return self.render_template(
            "sentinel/checkpoint_scan.html", token=page_token(), texts=texts,
            reasons=[str(r) for r in REASONS], other=str(OTHER_REASON), title=_("扫码核验"),
        )

    @expose("/token")
    @has_access
    def token(self):
        """A fresh page token while the login lasts (the script asks on a 401)."""
        return jsonify(access_token=page_token())
