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
from app.services.health import status as health_status
from views import openapi
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


class EnterpriseApiBase(ResourceApi):
    method_permission_name = rw_map(extra_read=("info",))

    def add_api_spec(self, api_spec) -> None:
        super().add_api_spec(api_spec)
        names = {"type": "array", "items": {"type": "object"}}
        api_spec.path(path=f"{self.route_base}/_info", operations={"get": {
            "summary": "企业管理: the towns (with grids) and enterprise types the caller may choose",
            "tags": [self.resource.camel], "security": openapi.JWT,
            "responses": {"200": {"description": "Choices in the caller's scope", "content": openapi.json_content({
                "type": "object", "properties": {"towns": names, "types": names}})}, **openapi.errors(401, 403)}}})

    @expose("/_info", methods=["GET"])
    @protect()
    @permission_name("info")
    def info(self):
        towns = lookups.towns_in_scope(self.session, self.scope)
        types = lookups.types_in_scope(self.session, self.scope)
        return self.response(
            200,
            towns=[{"name": t.name, "grids": [g.name for g in t.grids]} for t in towns],
            types=[{"code": t.code, "name": t.name, "spec": t.spec} for t in types],
        )


class StaffApiBase(ResourceApi):
    method_permission_name = rw_map(extra_read=("health",))

    def add_api_spec(self, api_spec) -> None:
        super().add_api_spec(api_spec)
        api_spec.path(path=f"{self.route_base}/{{pk}}/health", parameters=[openapi.PK], operations={"get": {
            "summary": "One person's tests and vaccinations (the read is audited)",
            "tags": [self.resource.camel], "security": openapi.JWT,
            "responses": {"200": {"description": "{id, result: {latest, bucket, history, vaccination, …}}",
                                  "content": openapi.json_content({"type": "object", "properties": {
                                      "id": {"type": "integer"}, "result": {"type": "object"}}})},
                          **openapi.errors(401, 403, 404)}}})

    @expose("/<int:pk>/health", methods=["GET"])
    @protect()
    @permission_name("health")
    def health(self, pk: int):
        """Latest sampling/test and result, bucket, 7-day history, doses (SPEC §9)."""
        result = staff_service.read_detail(
            self.session, self.scope, pk, options=health_status.WITH_SUMMARY,
            reading=lambda person: health_status.person_health(self.session, person).to_dict(),
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
