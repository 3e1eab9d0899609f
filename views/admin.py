"""District-admin screens on FAB ModelViews: audit, outbox (regions: views/regions.py).

Enterprise types have their own editor: views/enterprise_types.py."""
from __future__ import annotations

from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _

from app.security import roles as R
from models.audit import AuditLog
from models.notify import Message


class AuditLogView(ModelView):
    datamodel = SQLAInterface(AuditLog)
    class_permission_name = R.AUDIT
    base_permissions = ["can_list", "can_show"]
    base_order = ("id", "desc")
    list_columns = ["at", "username", "action", "entity", "entity_id", "rows", "detail", "ip"]
    show_columns = list_columns + ["before", "after"]
    search_columns = ["username", "action", "entity", "entity_id"]
    label_columns = {
        "at": _("时间(UTC)"), "username": _("用户"), "action": _("操作"), "entity": _("对象"),
        "entity_id": _("编号"), "rows": _("行数"), "detail": _("说明"), "ip": _("IP"),
        "before": _("修改前"), "after": _("修改后"),
    }


class OutboxView(ModelView):
    """Every message the platform sends. With the default channel this is where an
    admin reads SMS login codes for demo users (nothing leaves the machine) — for the
    code's lifetime only: the text is shown through ``Message.shown_body`` /
    ``shown_subject``, which hide a sensitive message's code once its ``redact_at`` has
    passed (app/notify/retention.py)."""

    datamodel = SQLAInterface(Message)
    class_permission_name = R.OUTBOX
    base_permissions = ["can_list", "can_show"]
    base_order = ("id", "desc")
    list_columns = ["created_at", "channel", "kind", "recipient", "shown_body", "status", "attempts", "last_error"]
    show_columns = list_columns + ["shown_subject", "attachment_name", "idempotency_key", "sent_at"]
    search_columns = ["recipient", "status", "channel"]
    label_columns = {
        "created_at": _("时间(UTC)"), "channel": _("通道"), "kind": _("类型"), "recipient": _("接收人"),
        "shown_body": _("内容"), "status": _("状态"), "attempts": _("尝试次数"), "last_error": _("错误"),
        "shown_subject": _("标题"), "attachment_name": _("附件"), "idempotency_key": _("幂等键"),
        "sent_at": _("发送时间"),
    }


def register_admin_views(appbuilder) -> None:
    category = dict(category="Admin", category_label=_("系统管理"), category_icon="fa-cogs")
    appbuilder.add_view(AuditLogView, "AuditLog", label=_("审计日志"), icon="fa-history", **category)
    from views.security_events import SecurityEventView

    appbuilder.add_view(SecurityEventView, "SecurityEvents", label=_("安全事件"), icon="fa-user-shield", **category)
    appbuilder.add_view(OutboxView, "Outbox", label=_("消息发件箱"), icon="fa-envelope", **category)
