"""系统管理 → 健康数据导入: an admin uploads a file of test or vaccination records.

GET/POST /feeds/upload/ (form, then the counts and the first rejected rows);
GET /feeds/upload/errors/<token> downloads every rejected row (feed columns + 异常信息),
for the uploading user only. Resource ``Feeds`` (write): the district admin (and the
数据接口 account, which has no menu).
"""
from __future__ import annotations

import io

from flask import g, request, send_file
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _

from app.domain.errors import ServiceError
from app.security import roles as R
from app.services.health.feeds import uploads
from app.services.imports import files
from views.base import ScopedView, rw_map

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KIND_LABELS = {"tests": _("核酸检测记录"), "vaccinations": _("疫苗接种记录")}


class FeedUploadView(ScopedView):
    route_base = "/feeds/upload"
    class_permission_name = R.FEEDS
    default_view = "upload"
    method_permission_name = rw_map(extra_write=("upload", "errors"))

    def _render(self, status: int = 200, **context):
        page = self.render_template("sentinel/feeds_upload.html", kinds=KIND_LABELS,
                                    chosen=request.values.get("kind") or "tests", **context)
        return page, status

    @expose("/", methods=["GET", "POST"])
    @has_access
    def upload(self):
        if request.method == "GET":
            return self._render()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return self._render(400, error=str(_("请选择要导入的文件")))
        try:
            outcome = uploads.ingest_upload(self.session, request.form.get("kind", ""), upload.read(),
                                            upload.filename, g.user)
        except ServiceError as err:  # refused whole: the operation wrote nothing
            return self._render(err.status, error=str(err.message))
        return self._render(outcome=outcome, kind_label=KIND_LABELS.get(request.form.get("kind")))

    @expose("/errors/<token>")
    @has_access
    def errors(self, token: str):
        kind = request.args.get("kind", "tests")
        path = files.failures_path(token, g.user.id, f"feed_{kind}")
        response = send_file(io.BytesIO(path.read_bytes()), mimetype=XLSX, as_attachment=True,
                             download_name=f"{_('导入失败数据')}.xlsx", max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response
