"""The registry as declared resources (SPEC §2, §9): ``enterprise`` and ``staff``.

Each gets its REST API (``/api/v1/enterprise/``, ``/api/v1/staff/`` in the keyword and
FAB's rison list forms), export, scope and audit from views/resources.py; the pages keep
the registry's own flows (views/registry_pages.py: lists with the health status, forms
with each type's declared fields, the head's phone pages in views/head.py). The staff API
adds ``/<id>/health``; the enterprise API adds ``/_info`` (the form's choices in scope).
"""
from __future__ import annotations

from flask_appbuilder import expose
from flask_appbuilder.security.decorators import permission_name, protect

from app.domain.i18n import _
from app.security import roles as R
from app.services import enterprises as enterprise_service
from app.services import exports, lookups
from app.services import staff as staff_service
from app.services.health.status import lookup as health_status
from app.services.rules import compliance
from views import openapi as doc
from views.menus import REGISTRY
from views.registry_pages import EnterprisePages, StaffPages
from views.base import rw_map
from views.resources import Menu, Resource, ResourceApi


def _filter(query, key):
    """The value of an ``eq`` filter of the list request (None when absent)."""
    return next((value for f, op, value in query.filters if f.key == key and op == "eq"), None)


def _enterprise_export(session, scope, query, args):
    return exports.enterprise_export(session, scope, query.keyword, _filter(query, "town_id"), _filter(query, "type_id"))


def _staff_export(session, scope, query, args):
    return exports.staff_export(session, scope, query.keyword, _filter(query, "enterprise_id"),
                                health_status.parse_bucket(args.get("bucket")))


_TEXT = {"type": "string"}
_TIME = doc.nullable({"type": "string", "format": "date-time"})
_TEST = {"sampled_at": _TIME, "tested_at": _TIME,
         "result": doc.nullable({"type": "string", "enum": ["negative", "positive", "pending", None]}),
         "result_label": doc.nullable(_TEXT), "institution": doc.nullable(_TEXT)}
STAFF_HEALTH = doc.obj({
    "latest": doc.obj(_TEST, required=tuple(_TEST), description="The latest sampling and test"),
    "bucket": doc.obj({"code": {"type": "string", "enum": ["24h", "48h", "72h", "over72h", "unmatched"]},
                       "label": _TEXT}, required=("code", "label"), description="Time since the latest sampling"),
    "history": doc.array(doc.obj(_TEST, required=tuple(_TEST)), "The samplings of the last 7 days, newest first"),
    "vaccination": doc.obj({
        "max_dose": {"type": "integer"}, "label": _TEXT, "product": doc.nullable(_TEXT),
        "doses": doc.array(doc.obj({"dose": {"type": "integer"}, "label": _TEXT, "done": {"type": "boolean"},
                                    "date": doc.nullable({"type": "string", "format": "date"})},
                                   required=("dose", "label", "done", "date"))),
    }, required=("max_dose", "label", "product", "doses")),
    "compliance": doc.nullable(doc.obj({
        "rule": _TEXT, "compliant": doc.nullable({"type": "boolean"}), "samplings": {"type": "integer"},
        "evaluated_on": {"type": "string", "format": "date"},
    }, required=("rule", "compliant", "samplings", "evaluated_on"),
        description="The latest nightly check of the person's testing rule (compliant null: registered "
                    "inside the rule's window and not judged yet); null without a rule")),
}, required=("latest", "bucket", "history", "vaccination", "compliance"))
ENTERPRISE_INFO = doc.obj({
    "towns": doc.array(doc.obj({"name": _TEXT, "grids": doc.array(_TEXT)}, required=("name", "grids"))),
    "types": doc.array(doc.obj({"code": _TEXT, "name": _TEXT, "spec": {"type": "object"}},
                               required=("code", "name", "spec"))),
}, required=("towns", "types"))


class EnterpriseApiBase(ResourceApi):
    method_permission_name = rw_map(extra_read=("info",))
    openapi_components = {"EnterpriseInfo": ENTERPRISE_INFO}

    @expose("/_info", methods=["GET"])
    @protect()
    @permission_name("info")
    @doc.describe(doc.answer(doc.ref("EnterpriseInfo"), "Towns with their grids, and types"))
    def info(self):
        """The choices of the enterprise form: the caller's towns and the types it may add
        enterprises of (a town user views freight enterprises but adds none)."""
        towns = lookups.towns_in_scope(self.session, self.scope)
        types = lookups.writable_types(self.session, self.scope)
        return self.response(
            200,
            towns=[{"name": t.name, "grids": [g.name for g in t.grids]} for t in towns],
            types=[{"code": t.code, "name": t.name, "spec": t.spec} for t in types],
        )


class StaffApiBase(ResourceApi):
    method_permission_name = rw_map(extra_read=("health",))
    openapi_components = {"StaffHealth": STAFF_HEALTH}

    @expose("/<int:pk>/health", methods=["GET"])
    @protect()
    @permission_name("health")
    @doc.describe(doc.answer(doc.one_schema(doc.ref("StaffHealth")), "The person's health"), errors=(404,))
    def health(self, pk: int):
        """One person's tests and vaccinations (the read is audited).

        Latest sampling and test with result, bucket, the 7-day history, doses (SPEC §9)."""
        result = staff_service.read_detail(
            self.session, self.scope, pk, options=health_status.WITH_SUMMARY,
            reading=lambda person: {**health_status.person_health(self.session, person).to_dict(),
                                    "compliance": compliance.person_compliance(self.session, person.id)},
        )
        return self.response(200, id=pk, result=result)


ENTERPRISES = Resource(
    name="enterprise", title=_("企业"), permission=R.ENTERPRISE,
    service=enterprise_service.EnterpriseService(), route="/enterprises",
    menu=Menu(REGISTRY, _("企业管理"), "fa-building", name="Enterprises"),
    view_class=EnterprisePages, api_class=EnterpriseApiBase, item_title=lambda row: row.name,
    export=_enterprise_export, export_title=_("企业信息"),
)
STAFF = Resource(
    name="staff", title=_("人员"), permission=R.STAFF,
    service=staff_service.StaffService(), route="/staff",
    menu=Menu(REGISTRY, _("人员管理"), "fa-users", name="Staff"),
    view_class=StaffPages, api_class=StaffApiBase, item_title=lambda row: row.name,
    export=_staff_export, export_title=_("人员信息"),
)
