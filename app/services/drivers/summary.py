"""The task force's summary at 12:00 and 18:00 district time (``checkpoint.summary``).

Public functions:

* ``period_ending(now) -> (start, end)`` — the period a run at ``now`` reports: from the
  previous slot (12:00 or 18:00) to the latest slot at or before ``now`` (naive UTC);
* ``send_summary(session, now=None) -> dict`` — the period's counts (卡口共通行车辆 N 辆，
  不准予通行 M 辆) with the .xlsx (车牌号, 司机姓名, 司机联系方式, 公司名称, 通行时间, 不通过原因)
  to the task force's users and the configured task-force recipients; once per period
  (``CheckpointSummaryRun``): a retry sends nothing again.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional


def period_ending(now: datetime) -> tuple[datetime, datetime]:
    raise NotImplementedError


def send_summary(session, now: Optional[datetime] = None) -> dict:
    raise NotImplementedError
