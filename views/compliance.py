"""未按规定检测: the people who broke their testing rule on a chosen day (the nightly
check's stored result), per type / category / town, scoped like staff; export; each row
drills down to the person. ``GET /api/v1/compliance/`` and ``/export`` (SPEC §9)."""
from __future__ import annotations

from flask import request
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name, protect

from app.domain.i18n import _
from app.security import roles as R
from app.services import exports, lookups
from app.services.rules import compliance
from views import openapi as doc
from views.base import ScopedApi, ScopedView

_TEXT = {"type": "string"}
_TIME = doc.nullable({"type": "string", "format": "date-time"})
BROKEN_ROW = doc.obj({
    "staff_id": {"type": "integer"}, "enterprise_name": _TEXT, "name": _TEXT, "phone": doc.nullable(_TEXT),
    "head_name": _TEXT, "head_phone": _TEXT, "town": _TEXT, "enterprise_type": _TEXT,
    "category": doc.nullable(_TEXT), "rule": _TEXT, "samplings": {"type": "integer"},
    "last_sampled_at": _TIME, "last_tested_at": _TIME,
}, required=("staff_id", "enterprise_name", "name", "phone", "head_name", "head_phone", "town", "enterprise_type",
             "category", "rule", "samplings", "last_sampled_at", "last_tested_at"))
BROKEN_LIST = doc.obj({
    "date": {"type": "string", "format": "date"}, "count": {"type": "integer"}, "page": {"type": "integer"},
    "page_size": {"type": "integer"}, "result": doc.array(doc.ref("NoncompliantPerson")),
}, required=("date", "count", "page", "page_size", "result"))
_DAY = {"type": "string", "format": "date"}
FILTER_PARAMS = [
    doc.query("date", _DAY, "The district day checked, YYYY-MM-DD (default: today)"),
    doc.query("enterprise_type", _TEXT, "An enterprise type code"),
    doc.query("category", _TEXT, "A staff category"),
    doc.query("town", _TEXT, "A town name"),
    doc.query("enterprise_id", {"type": "integer"}, "One enterprise (in the caller's scope)"),
]


class ComplianceApi(ScopedApi):
    resource_name = "compliance"
    class_permission_name = R.COMPLIANCE
    openapi_spec_tag = "Compliance"
    openapi_components = {"NoncompliantPerson": BROKEN_ROW, "NoncompliantList": BROKEN_LIST}

    @expose("/", methods=["GET"])
    @protect()
    @permission_name("get_list")
    @doc.describe(doc.answer(doc.ref("NoncompliantList"), "The people who broke their rule that day"),
                  errors=(400,), params=FILTER_PARAMS + [doc.query("page", {"type": "integer", "minimum": 1}),
                                                         doc.query("page_size", {"type": "integer", "minimum": 1})])
    def get_list(self):
        """未按规定检测 of a day, in the caller's scope.

        The nightly check's stored result of that day (a past day reads as it was)."""
        filters = compliance.parse_filters(request.args)
        page_no, size = self.page_args()
        page = compliance.page(self.session, self.scope, filters, page_no, size)
        return self.response(200, date=filters.day.isoformat(), count=page.total, page=page_no, page_size=size,
                             result=[r.to_dict() for r in page.items])

    @expose("/export", methods=["GET"])
    @protect(allow_browser_login=True)
    @permission_name("export")
    @doc.describe(doc.xlsx("未按规定检测人员 of the day"), errors=(400,), params=FILTER_PARAMS)
    def export(self):
        """The same list as .xlsx (audited)."""
        return exports.download(compliance.export(self.session, self.scope, compliance.parse_filters(request.args)))


class ComplianceView(ScopedView):
    route_base = "/compliance"
    class_permission_name = R.COMPLIANCE

    @expose("/")
    @has_access
    def list(self):
        filters = compliance.parse_filters(request.args)
        page_no, size = self.paging()
        page = compliance.page(self.session, self.scope, filters, page_no, size)
        args = {k: v for k, v in request.args.items() if k != "page"}
        return self.render_template(
            "sentinel/compliance_list.html", page=page, filters=filters, args=args,
            types=lookups.types_in_scope(self.session, self.scope),
            towns=lookups.towns_in_scope(self.session, self.scope),
            endpoint="ComplianceView.list", title=_("未按规定检测人员"))

    @expose("/export")
    @has_access
    def export(self):
        return exports.download(compliance.export(self.session, self.scope, compliance.parse_filters(request.args)))
