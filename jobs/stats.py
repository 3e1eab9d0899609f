"""Statistics jobs: keep the shared counts of the statistics pages warm."""
from __future__ import annotations

from app.platform.extensions import db
from app.services.health.statistics import tables


def warm() -> dict:
    """Every minute: recompute the counts behind 核酸检测统计 (last 7 days) and 疫苗接种统计
    (today) into the cache (app.services.health.statistics.tables.warm). Safe to run twice."""
    return tables.warm(db.session)
