"""The platform's own records as read-only declared resources (系统管理): the audit log,
the notification outbox and the security events. Held by the district admin alone (their
permissions); nothing here writes.

Raw values are shown by their Chinese names (choices), times in district local time by
the pages; a login code in the outbox is shown through ``Message.shown_body`` (hidden
once its lifetime has passed, app/notify/retention.py).
"""
from __future__ import annotations

from typing import Any

from app.domain.fields import Field
from app.domain.i18n import _
from app.platform.security_events import KINDS
from app.services.resources import ModelService
from models.audit import AuditLog
from models.notify import Message
from models.security_events import SecurityEvent

AUDIT_ACTIONS = [
    ("create", _("新增")), ("update", _("修改")), ("delete", _("删除")), ("view", _("查看")),
    ("export", _("导出")), ("import", _("导入")), ("login", _("登录")), ("purge", _("清理")),
    ("review", _("审核")), ("activate", _("启用")), ("deactivate", _("停用")),
    ("password_change", _("修改密码")), ("password_reset", _("重置密码")),
]
CHANNELS = [("outbox", _("发件箱（不外发）")), ("webhook", _("工作群机器人")), ("sms-http", _("短信网关")),
            ("inbox", _("站内消息"))]
KINDS_OF_MESSAGE = [("sms", _("短信")), ("messenger", _("工作消息")), ("inbox", _("站内消息"))]
STATUSES = [("queued", _("待发送")), ("sent", _("已发送")), ("failed", _("发送失败"))]
# what an audit row or a security event is about: model names and permission resources
ENTITIES = [
    ("Enterprise", _("企业")), ("Staff", _("人员")), ("User", _("用户")), ("Town", _("镇街")), ("Grid", _("网格")),
    ("Bureau", _("委办局")), ("Region", _("镇街与委办局")), ("EnterpriseType", _("主体类型")),
    ("VaccineProduct", _("疫苗产品")), ("AlertSetting", _("告警设置")), ("FeedBatch", _("健康数据导入")),
    ("Feeds", _("健康数据接口")), ("TestRecord", _("核酸检测记录")), ("VaccinationRecord", _("疫苗接种记录")),
    ("JobRecord", _("后台任务")), ("Jobs", _("后台任务")), ("Statistics", _("统计分析")), ("Message", _("消息")),
    ("Outbox", _("消息发件箱")), ("AuditLog", _("审计日志")), ("Audit", _("审计日志")),
    ("SecurityEvent", _("安全事件")), ("Compliance", _("未按规定检测")), ("Checkpoint", _("卡口核验")),
    ("Workforce", _("检测人员")), ("Account", _("账号")), ("PersonalData", _("个人信息")),
    ("SentinelUser", _("用户")), ("ComplianceResult", _("未按规定检测")), ("RuleRun", _("规则核查")),
    ("HealthSummary", _("核酸检测记录")), ("SamplingRecord", _("核酸检测记录")), ("SamplingDaily", _("核酸检测记录")),
    ("ReviewStep", _("审核记录")), ("Booking", _("预约和通行记录")), ("BookingImage", _("健康信息图片")),
    ("Passenger", _("乘车人")), ("Pass", _("通行码")), ("CheckpointRecipients", _("卡口告警设置")),
    ("CheckpointSetting", _("卡口告警设置")), ("CheckpointSummaryRun", _("卡口通行汇总")),
    ("ImportErrors", _("导入失败数据")), ("Job", _("后台任务")),
]


def entity_label(entity: Any) -> str:
    """An audited or refused object's name as the admin reads it (the stored name when
    none is known)."""
    return str(dict(ENTITIES).get(entity, entity or ""))

AUDIT_FIELDS = [
    Field("at", _("时间"), kind="datetime", filters=("gt", "lt"), sortable=True, form=False),
    Field("username", _("用户"), filters=("eq", "ct"), search=True, form=False),
    Field("action", _("操作"), kind="choice", choices=AUDIT_ACTIONS, filters=("eq", "in"), form=False),
    Field("entity", _("对象"), kind="choice", choices=ENTITIES, filters=("eq",), search=True, form=False),
    Field("entity_id", _("编号"), filters=("eq",), form=False),
    Field("rows", _("行数"), kind="int", form=False),
    Field("detail", _("说明"), search=True, form=False),
    Field("ip", _("IP"), list=False, form=False),
    Field("before", _("修改前"), kind="json", list=False, form=False),
    Field("after", _("修改后"), kind="json", list=False, form=False),
]
OUTBOX_FIELDS = [
    Field("created_at", _("时间"), kind="datetime", filters=("gt", "lt"), sortable=True, form=False),
    Field("channel", _("通道"), kind="choice", choices=CHANNELS, filters=("eq",), form=False),
    Field("kind", _("类型"), kind="choice", choices=KINDS_OF_MESSAGE, filters=("eq",), form=False),
    Field("recipient", _("接收人"), filters=("eq",), search=True, form=False),
    Field("subject", _("标题"), attr="shown_subject", list=False, form=False, verbatim=True),
    Field("body", _("内容"), attr="shown_body", form=False, verbatim=True),
    Field("status", _("状态"), kind="choice", choices=STATUSES, filters=("eq",), form=False),
    Field("attempts", _("尝试次数"), kind="int", form=False),
    Field("last_error", _("错误"), form=False, verbatim=True),
    Field("attachment_name", _("附件"), list=False, form=False),
    Field("sent_at", _("发送时间"), kind="datetime", list=False, form=False),
]
SECURITY_FIELDS = [
    Field("at", _("时间"), kind="datetime", filters=("gt", "lt"), sortable=True, form=False),
    Field("kind", _("事件"), kind="choice", choices=lambda: list(KINDS.items()), filters=("eq", "in"), form=False),
    Field("username", _("用户"), filters=("eq",), form=False),
    Field("account", _("尝试的账号"), filters=("eq",), form=False),
    Field("ip", _("IP"), form=False),
    Field("method", _("请求方式"), list=False, form=False),
    Field("route", _("路径"), form=False),
    Field("entity", _("对象"), kind="choice", choices=ENTITIES, list=False, form=False),
    Field("entity_id", _("编号"), list=False, form=False),
    Field("detail", _("说明"), list=False, form=False),
]


def audit_log() -> ModelService:
    return ModelService(AuditLog, AUDIT_FIELDS, default_order=(AuditLog.id.desc(),))


def outbox() -> ModelService:
    return ModelService(Message, OUTBOX_FIELDS, default_order=(Message.id.desc(),))


def security_events() -> ModelService:
    return ModelService(SecurityEvent, SECURITY_FIELDS, default_order=(SecurityEvent.id.desc(),))
