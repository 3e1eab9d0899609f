"""Who is told of checkpoint decisions (告警设置 of 预约和通行记录, seed 002 §2.7):
per town (the 3 streets and 6 towns), for the transport bureau, and for the task force's
summary. Recipients have the shape of ``AlertSetting.recipients``
(``[{"user_id"} | {"phone"} | {"webhook"}]``).

Public functions:

* ``get_recipients(scope, town_id=None) -> list[dict]``;
* ``set_recipients(scope, recipients, town_id=None) -> CheckpointRecipients`` (district
  admin, or the transport bureau; validated like the alert settings' recipients);
* ``list_settings() -> list[CheckpointRecipients]`` — one row per town, the bureau and
  the task force (rows created on first read);
* ``resolve(recipients) -> list[app.notify.messages.Recipient]``.
"""
from __future__ import annotations

from typing import Any, Optional


def get_recipients(scope: str, town_id: Optional[int] = None) -> list[dict[str, Any]]:
    raise NotImplementedError


def set_recipients(scope: str, recipients: Any, town_id: Optional[int] = None):
    raise NotImplementedError


def list_settings() -> list:
    raise NotImplementedError


def resolve(recipients: list[dict[str, Any]]) -> list:
    raise NotImplementedError
