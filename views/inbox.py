"""站内消息 (``/inbox/``): a signed-in user's own messages — the 9 o'clock alerts and the
task-force summary with their .xlsx links. Only the user's own messages are listed."""
from __future__ import annotations

from flask import g
from flask_appbuilder import expose, has_access

from app.domain.i18n import _
from app.platform.clock import to_local
from app.security import roles as R
from app.services import inbox
from views.base import ScopedView


class InboxView(ScopedView):
    route_base = "/inbox"
    class_permission_name = R.ACCOUNT

    @expose("/")
    @has_access
    def list(self):
        page_no, size = self.paging()
        page = inbox.page(self.session, g.user.id, page_no, size)
        return self.render_template("sentinel/inbox.html", page=page, link=inbox.attachment_link,
                                    local_text=lambda t: to_local(t).strftime("%Y-%m-%d %H:%M"), args={}, endpoint="InboxView.list", title=_("站内消息"))
