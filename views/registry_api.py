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
from views.base import ScopedApi


class EnterpriseApi(ScopedApi):
    resource_name = "enterprise"
    class_permission_name = R.ENTERPRISE

    @expose("/", methods=["GET"])
    @protect()
    @permission_name("get_list")
    def get_list(self):
        """Enterprises in the caller's scope.
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}, description: keyword}
          - {in: query, name: page, schema: {type: integer}}
          - {in: query, name: page_size, schema: {type: integer}}
          responses:
            200: {description: "{count, result: [enterprise]}"}
            401: {description: not logged in}
        """
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
    def get(self, pk: int):
        """One enterprise; 404 when outside the caller's scope.
        ---
        get:
          responses:
            200: {description: "{id, result}"}
            404: {description: not found or out of scope}
        """
        enterprise = get_or_404(self.session, Enterprise, pk, self.scope)
        return self.response(200, id=pk, result=enterprise_service.to_dict(enterprise))

    @expose("/", methods=["POST"])
    @protect()
    @permission_name("post")
    def post(self):
        """Register an enterprise (name, type_code, town, grid, address, head_name, head_phone, credit_code, extras).
        ---
        post:
          responses:
            201: {description: "{id, result}"}
            400: {description: "{message, errors}"}
            404: {description: town or type outside the caller's scope}
        """
        enterprise = enterprise_service.create(self.session, self.scope, self.json_body())
        return self.response(201, id=enterprise.id, result=enterprise_service.to_dict(enterprise))

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @permission_name("put")
    def put(self, pk: int):
        """Change an enterprise (partial payloads allowed).
        ---
        put:
          responses:
            200: {description: "{id, result}"}
            400: {description: bad values}
            404: {description: not found or out of scope}
        """
        enterprise = enterprise_service.update(self.session, self.scope, pk, self.json_body())
        return self.response(200, id=enterprise.id, result=enterprise_service.to_dict(enterprise))

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @permission_name("delete")
    def delete(self, pk: int):
        """Delete an enterprise and its staff.
        ---
        delete:
          responses:
            200: {description: deleted}
            404: {description: not found or out of scope}
        """
        if not enterprise_service.delete_many(self.session, self.scope, [pk]):
            raise OutOfScope("Enterprise", pk)
        return self.response(200, message="OK")

    @expose("/export", methods=["GET"])
    @protect(allow_browser_login=True)
    @permission_name("export")
    def export(self):
        """All enterprises in the caller's scope matching the list filter, as .xlsx (audited).
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}, description: keyword}
          - {in: query, name: town_id, schema: {type: integer}}
          - {in: query, name: type_id, schema: {type: integer}, description: adds the type's extra fields}
          responses:
            200: {description: the .xlsx (header X-Export-Rows holds the row count)}
            401: {description: not logged in}
        """
        args = request.args
        return exports.download(exports.enterprise_export(
            self.session, self.scope, args.get("q"), args.get("town_id", type=int), args.get("type_id", type=int)))

    @expose("/_info", methods=["GET"])
    @protect()
    @permission_name("info")
    def info(self):
        """Choices for the enterprise form, limited to the caller's scope.
        ---
        get:
          responses:
            200: {description: "{towns, types}"}
        """
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

    @expose("/", methods=["GET"])
    @protect()
    @permission_name("get_list")
    def get_list(self):
        """Staff in the caller's scope, ID numbers masked.
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}, description: "keyword: part of a name, or a full phone or ID number"}
          - {in: query, name: enterprise_id, schema: {type: integer}}
          - {in: query, name: page, schema: {type: integer}}
          - {in: query, name: page_size, schema: {type: integer}}
          responses:
            200: {description: "{count, result: [staff]}"}
        """
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
    def export(self):
        """All staff in the caller's scope matching the list filter, as .xlsx (audited).
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}, description: "keyword: part of a name, or a full phone or ID number"}
          - {in: query, name: enterprise_id, schema: {type: integer}, description: adds the type's extra staff fields}
          - {in: query, name: bucket, schema: {type: string, enum: [24h, 48h, 72h, over72h, unmatched]}}
          responses:
            200: {description: the .xlsx (header X-Export-Rows holds the row count)}
            404: {description: enterprise outside the caller's scope}
        """
        return exports.download(exports.staff_export(
            self.session, self.scope, request.args.get("q"), request.args.get("enterprise_id", type=int),
            health_status.parse_bucket(request.args.get("bucket"))))

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @permission_name("get")
    def get(self, pk: int):
        """One person, full ID number; the read is audited.
        ---
        get:
          responses:
            200: {description: "{id, result}"}
            404: {description: not found or out of scope}
        """
        person = staff_service.read_detail(self.session, self.scope, pk)
        return self.response(200, id=pk, result=staff_service.to_dict(person))

    @expose("/<int:pk>/health", methods=["GET"])
    @protect()
    @permission_name("health")
    def health(self, pk: int):
        """One person's tests and vaccinations: latest sampling/test and result, bucket
        (24h/48h/72h/over72h/unmatched), 7-day history, doses and dates; the read is audited.
        ---
        get:
          responses:
            200: {description: "{id, result: {latest, bucket: {code, label}, history, vaccination}}"}
            404: {description: not found or out of scope}
        """
        result = staff_service.read_detail(
            self.session, self.scope, pk, options=health_status.WITH_SUMMARY,
            reading=lambda person: health_status.person_health(self.session, person).to_dict(),
        )
        return self.response(200, id=pk, result=result)

    @expose("/", methods=["POST"])
    @protect()
    @permission_name("post")
    def post(self):
        """Add a person (enterprise_id, name, id_type, id_number, phone, category, worker_kind, residence_type, address, extras).
        ---
        post:
          responses:
            201: {description: "{id, result}"}
            400: {description: bad values}
            404: {description: enterprise outside the caller's scope}
            409: {description: same ID number already in this enterprise}
        """
        person = staff_service.create(self.session, self.scope, self.json_body())
        return self.response(201, id=person.id, result=staff_service.to_dict(person))

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @permission_name("put")
    def put(self, pk: int):
        """Change a person (partial payloads allowed).
        ---
        put:
          responses:
            200: {description: "{id, result}"}
            404: {description: not found or out of scope}
            409: {description: duplicate ID number}
        """
        person = staff_service.update(self.session, self.scope, pk, self.json_body())
        return self.response(200, id=person.id, result=staff_service.to_dict(person))

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @permission_name("delete")
    def delete(self, pk: int):
        """Delete a person.
        ---
        delete:
          responses:
            200: {description: deleted}
            404: {description: not found or out of scope}
        """
        if not staff_service.delete_many(self.session, self.scope, [pk]):
            raise OutOfScope("Staff", pk)
        return self.response(200, message="OK")
