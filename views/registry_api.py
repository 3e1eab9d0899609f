"""REST API of the registry (SPEC §9): /api/v1/enterprise/ and /api/v1/staff/."""
from __future__ import annotations

from flask import request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import permission_name, protect

from app.domain.errors import OutOfScope
from app.security import roles as R
from app.security.scope import get_or_404
from app.services import enterprises as enterprise_service
from app.services import exports
from app.services import lookups
from app.services import staff as staff_service
from app.services.health import status as health_status
from models.enterprises import Enterprise
from views import openapi as doc
from views.base import ScopedApi

_TEXT, _EXTRAS = {"type": "string"}, {"type": "object", "description": "The type's extra fields by key"}
ENTERPRISE_INPUT = doc.obj({
    "name": _TEXT, "type_code": {"type": "string", "description": "The enterprise type's code"},
    "town": {"type": "string", "description": "The town's name"},
    "grid": doc.nullable({"type": "string", "description": "A grid of the town, by name"}),
    "address": _TEXT, "head_name": _TEXT, "head_phone": _TEXT,
    "credit_code": doc.nullable({"type": "string", "description": "统一社会信用代码"}), "extras": _EXTRAS,
}, required=("name", "type_code", "town", "address", "head_name", "head_phone"))
ENTERPRISE = doc.obj({
    "id": {"type": "integer"}, **ENTERPRISE_INPUT["properties"], "type_name": _TEXT,
    "head_phone": {"type": "string", "description": "Masked in lists"},
}, required=("id", "name", "type_code", "type_name", "town", "grid", "address", "head_name", "head_phone",
             "credit_code", "extras"))
STAFF_INPUT = doc.obj({
    "enterprise_id": {"type": "integer"}, "name": _TEXT,
    "id_type": {"type": "string", "description": "Default 居民身份证"}, "id_number": _TEXT, "phone": _TEXT,
    "category": doc.nullable({"type": "string", "description": "One of the type's staff categories"}),
    "worker_kind": doc.nullable({"type": "string", "description": "One of the type's worker kinds"}),
    "residence_type": doc.nullable({"type": "string", "description": "One of the type's residence types"}),
    "address": doc.nullable(_TEXT), "extras": _EXTRAS,
}, required=("enterprise_id", "name", "id_number", "phone"))
STAFF = doc.obj({
    "id": {"type": "integer"}, **STAFF_INPUT["properties"], "enterprise_name": _TEXT,
    "id_number": {"type": "string", "description": "Masked in lists (440115********765X)"},
    "phone": doc.nullable({"type": "string", "description": "Masked in lists"}),
}, required=("id", "enterprise_id", "enterprise_name", "name", "id_type", "id_number", "phone", "category",
             "worker_kind", "residence_type", "address", "extras"))
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
}, required=("latest", "bucket", "history", "vaccination"))
ENTERPRISE_INFO = doc.obj({
    "towns": doc.array(doc.obj({"name": _TEXT, "grids": doc.array(_TEXT)}, required=("name", "grids"))),
    "types": doc.array(doc.obj({"code": _TEXT, "name": _TEXT, "spec": {"type": "object"}},
                               required=("code", "name", "spec"))),
}, required=("towns", "types"))
_PAGE = [doc.query("q", {"type": "string"}, "A keyword"), doc.query("page", {"type": "integer", "minimum": 1}),
         doc.query("page_size", {"type": "integer", "minimum": 1, "maximum": 100})]
_DELETED = doc.answer(doc.ref("Message"), "Deleted")


class EnterpriseApi(ScopedApi):
    resource_name = "enterprise"
    class_permission_name = R.ENTERPRISE
    openapi_spec_tag = "Enterprise"
    openapi_components = {"Enterprise": ENTERPRISE, "EnterpriseInput": ENTERPRISE_INPUT,
                          "EnterpriseInfo": ENTERPRISE_INFO}

    @expose("/", methods=["GET"])
    @protect()
    @permission_name("get_list")
    @doc.describe(doc.answer(doc.list_schema(doc.ref("Enterprise")), "One page"), params=_PAGE)
    def get_list(self):
        """Enterprises in the caller's scope (head phones masked)."""
        page, size = self.page_args()
        result = enterprise_service.list_page(self.session, self.scope, request.args.get("q"), page, size)
        return self.response(
            200, count=result.total, page=page, page_size=size,
            ids=[e.id for e in result.items],
            result=[enterprise_service.to_dict(e) for e in result.items],
        )

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @permission_name("get")
    @doc.describe(doc.answer(doc.one_schema(doc.ref("Enterprise")), "The enterprise"), errors=(404,))
    def get(self, pk: int):
        """One enterprise; 404 when outside the caller's scope."""
        enterprise = get_or_404(self.session, Enterprise, pk, self.scope)
        return self.response(200, id=pk, result=enterprise_service.to_dict(enterprise))

    @expose("/", methods=["POST"])
    @protect()
    @permission_name("post")
    @doc.describe(doc.answer(doc.one_schema(doc.ref("Enterprise")), "Registered"), status=201,
                  body=doc.json_body(doc.ref("EnterpriseInput")), errors=(400, 404))
    def post(self):
        """Register an enterprise.

        A town or type outside the caller's scope is a 404."""
        enterprise = enterprise_service.create(self.session, self.scope, self.json_body())
        return self.response(201, id=enterprise.id, result=enterprise_service.to_dict(enterprise))

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @permission_name("put")
    @doc.describe(doc.answer(doc.one_schema(doc.ref("Enterprise")), "Changed"),
                  body=doc.json_body(doc.obj(ENTERPRISE_INPUT["properties"]), "Any of the fields"), errors=(400, 404))
    def put(self, pk: int):
        """Change an enterprise (partial payloads allowed)."""
        enterprise = enterprise_service.update(self.session, self.scope, pk, self.json_body())
        return self.response(200, id=enterprise.id, result=enterprise_service.to_dict(enterprise))

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @permission_name("delete")
    @doc.describe(_DELETED, errors=(404,))
    def delete(self, pk: int):
        """Delete an enterprise and its staff."""
        if not enterprise_service.delete_many(self.session, self.scope, [pk]):
            raise OutOfScope("Enterprise", pk)
        return self.response(200, message="OK")

    @expose("/export", methods=["GET"])
    @protect(allow_browser_login=True)
    @permission_name("export")
    @doc.describe(doc.xlsx("The workbook; X-Export-Rows holds the row count"), params=[
        doc.query("q", {"type": "string"}, "A keyword"), doc.query("town_id", {"type": "integer"}),
        doc.query("type_id", {"type": "integer"}, "Adds the type's extra fields")])
    def export(self):
        """All enterprises in the caller's scope matching the list filter, as .xlsx (audited)."""
        args = request.args
        return exports.download(exports.enterprise_export(
            self.session, self.scope, args.get("q"), args.get("town_id", type=int), args.get("type_id", type=int)))

    @expose("/_info", methods=["GET"])
    @protect()
    @permission_name("info")
    @doc.describe(doc.answer(doc.ref("EnterpriseInfo"), "Towns with their grids, and types"))
    def info(self):
        """Choices for the enterprise form, limited to the caller's scope."""
        towns = lookups.towns_in_scope(self.session, self.scope)
        types = lookups.types_in_scope(self.session, self.scope)
        return self.response(
            200,
            towns=[{"name": t.name, "grids": [g.name for g in t.grids]} for t in towns],
            types=[{"code": t.code, "name": t.name, "spec": t.spec} for t in types],
        )


class StaffApi(ScopedApi):
    resource_name = "staff"
    class_permission_name = R.STAFF
    openapi_spec_tag = "Staff"
    openapi_components = {"Staff": STAFF, "StaffInput": STAFF_INPUT, "StaffHealth": STAFF_HEALTH}

    @expose("/", methods=["GET"])
    @protect()
    @permission_name("get_list")
    @doc.describe(doc.answer(doc.list_schema(doc.ref("Staff")), "One page"), params=[
        *_PAGE[:1], doc.query("enterprise_id", {"type": "integer"}), *_PAGE[1:]])
    def get_list(self):
        """Staff in the caller's scope, ID numbers and phones masked.

        The keyword matches part of a name, or a full phone or ID number."""
        page, size = self.page_args()
        result = staff_service.list_page(
            self.session, self.scope, request.args.get("q"), page, size, request.args.get("enterprise_id", type=int)
        )
        return self.response(
            200, count=result.total, page=page, page_size=size,
            ids=[s.id for s in result.items],
            result=[staff_service.to_dict(s, masked=True) for s in result.items],
        )

    @expose("/export", methods=["GET"])
    @protect(allow_browser_login=True)
    @permission_name("export")
    @doc.describe(doc.xlsx("The workbook; X-Export-Rows holds the row count"), errors=(404,), params=[
        doc.query("q", {"type": "string"}, "A keyword: part of a name, or a full phone or ID number"),
        doc.query("enterprise_id", {"type": "integer"}, "Adds the type's extra staff fields"),
        doc.query("bucket", {"type": "string", "enum": ["24h", "48h", "72h", "over72h", "unmatched"]})])
    def export(self):
        """All staff in the caller's scope matching the list filter, as .xlsx (audited).

        An enterprise outside the caller's scope is a 404."""
        return exports.download(exports.staff_export(
            self.session, self.scope, request.args.get("q"), request.args.get("enterprise_id", type=int),
            health_status.parse_bucket(request.args.get("bucket"))))

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @permission_name("get")
    @doc.describe(doc.answer(doc.one_schema(doc.ref("Staff")), "The person"), errors=(404,))
    def get(self, pk: int):
        """One person, full ID number; the read is audited."""
        person = staff_service.read_detail(self.session, self.scope, pk)
        return self.response(200, id=pk, result=staff_service.to_dict(person))

    @expose("/<int:pk>/health", methods=["GET"])
    @protect()
    @permission_name("health")
    @doc.describe(doc.answer(doc.one_schema(doc.ref("StaffHealth")), "The person's health"), errors=(404,))
    def health(self, pk: int):
        """One person's tests and vaccinations; the read is audited.

        Latest sampling/test and result, bucket (24h/48h/72h/over72h/unmatched), 7-day
        history, doses and dates."""
        result = staff_service.read_detail(
            self.session, self.scope, pk, options=health_status.WITH_SUMMARY,
            reading=lambda person: health_status.person_health(self.session, person).to_dict(),
        )
        return self.response(200, id=pk, result=result)

    @expose("/", methods=["POST"])
    @protect()
    @permission_name("post")
    @doc.describe(doc.answer(doc.one_schema(doc.ref("Staff")), "Added"), status=201,
                  body=doc.json_body(doc.ref("StaffInput")), errors=(400, 404, 409))
    def post(self):
        """Add a person.

        An enterprise outside the caller's scope is a 404; the same ID number already in
        this enterprise a 409."""
        person = staff_service.create(self.session, self.scope, self.json_body())
        return self.response(201, id=person.id, result=staff_service.to_dict(person))

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @permission_name("put")
    @doc.describe(doc.answer(doc.one_schema(doc.ref("Staff")), "Changed"),
                  body=doc.json_body(doc.obj(STAFF_INPUT["properties"]), "Any of the fields"), errors=(400, 404, 409))
    def put(self, pk: int):
        """Change a person (partial payloads allowed); a duplicate ID number is a 409."""
        person = staff_service.update(self.session, self.scope, pk, self.json_body())
        return self.response(200, id=person.id, result=staff_service.to_dict(person))

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @permission_name("delete")
    @doc.describe(_DELETED, errors=(404,))
    def delete(self, pk: int):
        """Delete a person."""
        if not staff_service.delete_many(self.session, self.scope, [pk]):
            raise OutOfScope("Staff", pk)
        return self.response(200, message="OK")
