"""GET /files/<token>: download a message attachment through its expiring signed link.

No login: the signed, expiring token is the credential (links go to messenger
groups). An expired, forged or dangling token is a 404 with a Chinese message.
"""
from __future__ import annotations

from flask import send_file
from flask_appbuilder import BaseView, expose
from flask_babel import lazy_gettext as _

from app.notify.attachments import resolve
from app.platform.http import error_response


class FilesView(BaseView):
    route_base = "/files"
    default_view = "download"

    @expose("/<token>")
    def download(self, token: str):
        found = resolve(token)
        if found is None:
            return error_response(404, _("文件链接已过期或无效"))
        path, name = found
        response = send_file(path, as_attachment=True, download_name=name, max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response
