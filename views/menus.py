"""Menu categories (their names are permission targets: ``menu_access`` on the name)."""
from __future__ import annotations

from app.domain.i18n import _

REGISTRY = "Registry"
STATISTICS = "Statistics"
ADMIN = "Admin"
ALERTS = "Alerts"
TRUCKS = "Trucks"  # 货车司机 (issue 15)

CATEGORY_LABELS = {
    REGISTRY: _("台账管理"),
    STATISTICS: _("统计分析"),
    ALERTS: _("核酸告警"),
    TRUCKS: _("货车司机管理"),
    ADMIN: _("系统管理"),
}
CATEGORY_ICONS = {REGISTRY: "fa-building", STATISTICS: "fa-bar-chart", ALERTS: "fa-bell", ADMIN: "fa-cogs",
                  TRUCKS: "fa-truck"}
