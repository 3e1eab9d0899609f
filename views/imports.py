"""Templates and imports of the registry (SPEC §9), as API and as pages.

API (JWT; GET routes also accept the browser session):
  GET  /api/v1/{staff|enterprise}/template?enterprise_type=<code>  (staff: or enterprise_id)
  POST /api/v1/{staff|enterprise}/import   multipart file, enterprise_id (staff),
       enterprise_type (enterprises, optional), dry_run → {created, updated, failed,
       errors_url, …} or {job_id}
  GET  /api/v1/{staff|enterprise}/import/errors/<token>  the failure workbook (same user)
Pages (session): /import/{staff|enterprise}/ (form + result), …/template, …/job/<id>.

The API classes share the /api/v1/staff and /api/v1/enterprise prefixes with the
registry APIs (different blueprints, non-overlapping routes).
"""
from __future__ import annotations

import io

from flask import g, jsonify, request, send_file
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name, protect
from flask_babel import lazy_gettext as _

from app.domain.errors import OutOfScope, ServiceError
from app.security import roles as R
from app.security.ownership import readable_job_status
from app.security.redirects import redirect_target
from app.services import enterprises as enterprise_service
from app.services import lookups
from app.services import staff as staff_service
from app.services.imports import files
from app.services.imports.background import launch
from app.services.imports.templates import MIMETYPE, template_for
from views import openapi as doc
from views.base import ScopedApi, ScopedView, rw_map

TRUE = {"1", "true", "on", "yes"}

_COUNT = {"type": "integer"}
IMPORT_RESULT = doc.obj({
    "created": _COUNT, "updated": _COUNT, "failed": _COUNT, "total": _COUNT,
    "duplicates": {"type": "integer", "description": "Rows superseded by a later row with the same key"},
    "dry_run": {"type": "boolean"},
    "errors_url": doc.nullable({"type": "string", "description": "The failure workbook (original columns + 异常信息)"}),
    "errors_token": doc.nullable({"type": "string"}),
    "health_job": doc.nullable({"type": "string", "description": "The job matching many new people to health records"}),
}, required=("created", "updated", "failed", "total", "duplicates", "dry_run", "errors_url"))
IMPORT_JOB = doc.obj({"job_id": {"type": "string", "description": "Poll GET /api/v1/jobs/{job_id}"}},
                     required=("job_id",))
IMPORT_FORM = doc.form_body({
    "enterprise_id": {"type": "integer", "description": "Staff: the enterprise (required)"},
    "enterprise_type": {"type": "string", "description": "Enterprises: the type's code or name (optional)"},
    "dry_run": {"type": "boolean", "description": "Check only: report the same, write nothing"},
}, description="An .xlsx (the template) or a .csv")


def _xlsx(content: bytes, name: str):
    response = send_file(io.BytesIO(content), mimetype=MIMETYPE, as_attachment=True,
                         download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _upload(kind: str) -> tuple[bytes, str, dict]:
    """The uploaded file and the import options of this request; 400 when missing."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ServiceError(_("请选择要导入的文件"))
    options = {"dry_run": (request.form.get("dry_run") or "").lower() in TRUE}
    if kind == "staff":
        if not request.form.get("enterprise_id"):
            raise ServiceError(_("请选择企业"))
        options["enterprise_id"] = request.form.get("enterprise_id")
    else:
        options["enterprise_type"] = request.form.get("enterprise_type") or None
    return upload.read(), upload.filename, options


class _ImportApi(ScopedApi):
    kind = ""
    method_permission_name = rw_map(extra_read=("import_errors",))
    openapi_components = {"ImportResult": IMPORT_RESULT, "ImportJob": IMPORT_JOB}

    @expose("/template", methods=["GET"])
    @protect(allow_browser_login=True)
    @permission_name("template")
    @doc.describe(doc.xlsx("The template"), errors=(400, 404), params=[
        doc.query("enterprise_type", {"type": "string"}, "The type's code or name"),
        doc.query("enterprise_id", {"type": "integer"}, "Staff: the type of this enterprise")])
    def template(self):
        """The import template (.xlsx) of an enterprise type.

        No type, or an unknown one, is a 400; an enterprise outside the caller's scope a 404."""
        content, name = template_for(self.session, self.scope, self.kind,
                                     enterprise_type=request.args.get("enterprise_type"),
                                     enterprise_id=request.args.get("enterprise_id"))
        return _xlsx(content, name)

    @expose("/import", methods=["POST"])
    @protect()
    @permission_name("import_file")
    @doc.describe(doc.answer({"oneOf": [doc.ref("ImportResult"), doc.ref("ImportJob")]},
                             "The summary, or the job of a large file"),
                  body=IMPORT_FORM, errors=(400, 404))
    def import_file(self):
        """Import an .xlsx or .csv (multipart ``file``; staff: ``enterprise_id``; ``dry_run``).

        A refused file is a 400 (413 over the size or row limits) and writes nothing; an
        enterprise outside the caller's scope is a 404. A large file runs as a job."""
        data, filename, options = _upload(self.kind)
        outcome = launch(self.session, self.scope, g.user, self.kind, data, filename, **options)
        return self.response(200, **outcome)

    @expose("/import/errors/<token>", methods=["GET"])
    @protect(allow_browser_login=True)
    @permission_name("import_errors")
    @doc.describe(doc.xlsx("The workbook (original columns + 异常信息)"), errors=(404,))
    def import_errors(self, token: str):
        """The failure workbook of an import, for the user who ran it only.

        An unknown token, or another user's, is a 404."""
        path = files.failures_path(token, self.scope.user_id, self.kind)
        return _xlsx(path.read_bytes(), f"{_('导入失败数据')}.xlsx")


class StaffImportApi(_ImportApi):
    resource_name = "staff"
    openapi_spec_tag = "Staff"
    class_permission_name = R.STAFF
    kind = "staff"


class EnterpriseImportApi(_ImportApi):
    resource_name = "enterprise"
    openapi_spec_tag = "Enterprise"
    class_permission_name = R.ENTERPRISE
    kind = "enterprise"


class _ImportView(ScopedView):
    kind = ""
    default_view = "import_file"
    method_permission_name = rw_map(extra_read=("job",))

    def _choices(self) -> dict:
        if self.kind == "staff":
            stmt = enterprise_service.query(self.scope).limit(500)
            visible = self.session.execute(stmt).unique().scalars()
            return {"enterprises": staff_service.writable_enterprises(self.session, self.scope, visible)}
        return {"types": lookups.writable_types(self.session, self.scope)}

    def _render(self, **context):
        title = _("导入人员") if self.kind == "staff" else _("批量新增企业")
        back = request.values.get("back")  # where 员工管理 leads back to (the head's phone list)
        return self.render_template("sentinel/import_form.html", kind=self.kind, title=title,
                                    chosen=request.values, back=redirect_target(back) if back else "",
                                    **self._choices(), **context)

    @expose("/", methods=["GET", "POST"])
    @has_access
    def import_file(self):
        if request.method == "GET":
            return self._render()
        try:
            data, filename, options = _upload(self.kind)
            outcome = launch(self.session, self.scope, g.user, self.kind, data, filename, **options)
        except (ServiceError, OutOfScope) as err:  # nothing written: the import's operation rolled back
            message = err.message if isinstance(err, ServiceError) else _("数据不存在或无权访问")
            return self._render(error=str(message)), getattr(err, "status", 404)
        return self._render(outcome=outcome)

    @expose("/template")
    @has_access
    def template(self):
        content, name = template_for(self.session, self.scope, self.kind,
                                     enterprise_type=request.args.get("enterprise_type"),
                                     enterprise_id=request.args.get("enterprise_id"))
        return _xlsx(content, name)

    @expose("/job/<job_id>")
    @has_access
    def job(self, job_id: str):
        """Progress of the caller's own import job, for the page's progress bar."""
        status = readable_job_status(job_id, g.user)
        if status is None:
            raise OutOfScope("Job")
        return jsonify(status)


class StaffImportView(_ImportView):
    route_base = "/import/staff"
    class_permission_name = R.STAFF
    kind = "staff"


class EnterpriseImportView(_ImportView):
    route_base = "/import/enterprise"
    class_permission_name = R.ENTERPRISE
    kind = "enterprise"


def register(appbuilder) -> None:
    """Called from views/__init__.py."""
    appbuilder.add_api(StaffImportApi)
    appbuilder.add_api(EnterpriseImportApi)
    appbuilder.add_view_no_menu(StaffImportView)
    appbuilder.add_view_no_menu(EnterpriseImportView)
