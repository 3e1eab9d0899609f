"""告警设置 of 预约和通行记录 (seed 002 §2.7): who is told of checkpoint decisions — the
recipients of each of the 3街6镇 and of the transport bureau (区住房和城乡建设局/区交通运输局),
and who else gets the task force's 12:00 / 18:00 summary.

The page edits the rows of app.services.drivers.recipients (the same service as
``PUT /api/v1/checkpoint/recipients/``): one form per row, recipients one per line (a
user name, a mobile number or a robot URL, as in the alert settings). The district admin
and the transport bureau only (``may_set_recipients``); anyone else gets 404.
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from sqlalchemy import select

from app.domain.errors import OutOfScope, ServiceError
from app.domain.i18n import _
from app.security import roles as R
from app.security.policies.drivers import may_set_recipients
from app.services.drivers import recipients as recipient_service
from models.drivers import RECIPIENTS_BUREAU, RECIPIENTS_TASKFORCE
from models.users import SentinelUser
from views.base import ScopedView, rw_map

MSG_UNKNOWN_USER = _("推送人员中有不存在的平台用户名")
SCOPE_LABELS = {RECIPIENTS_BUREAU: _("区住房和城乡建设局（区交通运输局）"), RECIPIENTS_TASKFORCE: _("专班（每日汇总）")}


def recipient_lines(session, stored: list) -> str:
    """The stored recipients as the form shows them: one user name, phone or URL a line."""
    ids = [item["user_id"] for item in stored if "user_id" in item]
    names = dict(session.execute(select(SentinelUser.id, SentinelUser.username).where(SentinelUser.id.in_(ids))).all()) \
        if ids else {}
    lines = []
    for item in stored:
        if "user_id" in item:
            lines.append(names.get(item["user_id"], str(item["user_id"])))
        else:
            lines.append(str(item.get("phone") or item.get("webhook") or ""))
    return "\n".join(line for line in lines if line)


class CheckpointRecipientsView(ScopedView):
    route_base = "/checkpoint_recipients"
    class_permission_name = R.CHECKPOINT_SETTING
    method_permission_name = rw_map(extra_write=("save",))
    default_view = "list"

    def _guard(self) -> None:
        if not may_set_recipients(self.scope):
            raise OutOfScope("CheckpointRecipients")

    @expose("/")
    @has_access
    def list(self):
        self._guard()
        rows = recipient_service.list_settings()
        items = [{"row": r, "label": r.town.name if r.town else SCOPE_LABELS.get(r.scope, r.scope),
                  "lines": recipient_lines(self.session, r.recipients or [])} for r in rows]
        return self.render_template("sentinel/checkpoint_recipients.html", items=items, title=_("告警设置"))

    @expose("/save", methods=["POST"])
    @has_access
    def save(self):
        self._guard()
        scope = request.form.get("scope")
        try:
            recipient_service.set_recipients(scope, request.form.get("recipients", ""),
                                              request.form.get("town_id") or None,
                                              active="active" in request.form)
        except (ServiceError, OutOfScope) as err:
            message = err.message if isinstance(err, ServiceError) else MSG_UNKNOWN_USER
            flash(str(message), "danger")
        else:
            flash(str(_("已保存")), "success")
        return redirect(url_for("CheckpointRecipientsView.list"))
