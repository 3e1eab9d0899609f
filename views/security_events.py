"""系统管理 → 安全事件: the district admin reads the security events (app/platform/security_events.py)."""
from __future__ import annotations

from flask import request
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _

from app.security import roles as R
from app.platform.security_events import KINDS
from app.services import security_log
from app.platform.clock import district_tz
from app.services.health.status import local_text
from views.base import ScopedView


class SecurityEventView(ScopedView):
    route_base = "/security-events"
    class_permission_name = R.AUDIT  # the district admin's, like the audit log

    @expose("/")
    @has_access
    def list(self):
        """Newest first, filtered by ?kind=, ?user=, ?start= and ?end= (district days)."""
        filters = security_log.parse_filters(request.args)
        page, size = self.paging()
        result = security_log.list_page(self.session, filters, district_tz(), page, size)
        return self.render_template(
            "sentinel/security_events.html", page=result, filters=filters, kinds=KINDS,
            local_text=local_text, title=_("安全事件"),
        )
