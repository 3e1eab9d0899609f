"""首页 of the town, bureau and district admin users: the numbers of their scope, each
read through the same scoped service as the list it links to, so a number and its list
always agree (a town sees its town's numbers, a bureau its types', the admin the district's).

* 企业数量: ``app.services.enterprises.query`` (企业管理);
* 人员数量 and the five test-status buckets by latest sampling (24小时 / 48小时 / 72小时 /
  大于72小时 / 未匹配, REFERENCE "Test-result buckets"): ``health.status.lookup.bucket_counts``
  (人员管理 with ?bucket=; 未匹配 is also 未匹配人员);
* 今日未按规定检测: ``rules.compliance.count_broken`` of today, for those who may read it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select

from app.security import scope as S
from app.services import enterprises as enterprise_service
from app.services.health.status import lookup as health_status
from app.services.rules import compliance


@dataclass(frozen=True)
class Dashboard:
    enterprises: int
    staff: int
    buckets: health_status.BucketCounts
    broken: Optional[int]  # None: not shown (no Compliance permission)


def scope_dashboard(session, scope: S.Scope, *, with_compliance: bool, now: Optional[datetime] = None) -> Dashboard:
    """The numbers of ``scope`` now (today's 未按规定检测 when ``with_compliance``)."""
    listed = enterprise_service.query(scope).order_by(None).subquery()
    enterprises = session.execute(select(func.count()).select_from(listed)).scalar_one()
    buckets = health_status.bucket_counts(session, scope, now=now)
    broken = compliance.count_broken(session, scope) if with_compliance else None
    return Dashboard(int(enterprises), buckets.total, buckets, broken)
