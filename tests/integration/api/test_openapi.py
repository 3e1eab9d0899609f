"""The OpenAPI document at /api/v1/_openapi (SPEC §9): valid OpenAPI 3.0, complete
enough for a client generator (every operation declares its body, its answers with
schemas and its path parameters; every API route is in it), and true to what the API
really answers (tests/integration/api/test_openapi_answers.py)."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator

from tests.conftest import api_token
from views.openapi import NO_BODY

BODY_METHODS = ("post", "put", "patch")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@pytest.fixture(scope="module")
def document(app):
    client = app.test_client()
    response = client.get("/api/v1/_openapi", headers=api_token(client, "admin"))
    assert response.status_code == 200
    return response.json


def resolve(document: dict, item: dict) -> dict:
    """``item`` with its ``$ref`` (e.g. #/components/responses/401) followed."""
    while "$ref" in item:
        node = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        item = node
    return item


def problems(document: dict) -> list[str]:
    """What a client generator would miss: per operation, a 2xx answer with a schema
    (or a 204), a schema for every answer, every path parameter declared, a request
    body for every POST/PUT/PATCH (or the explicit ``x-no-request-body``)."""
    found = []
    for path, item in document.get("paths", {}).items():
        shared = {p["name"] for p in (resolve(document, p) for p in item.get("parameters", [])) if p["in"] == "path"}
        for method, op in item.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            declared = shared | {p["name"] for p in (resolve(document, p) for p in op.get("parameters", []))
                                 if p["in"] == "path"}
            for name in sorted(set(re.findall(r"{(\w+)}", path)) - declared):
                found.append(f"{where}: path parameter {name!r} not declared")
            answers = op.get("responses", {})
            if not any(status.startswith("2") for status in answers):
                found.append(f"{where}: no 2xx answer")
            for status, answer in answers.items():
                answer = resolve(document, answer)
                if status == "204":
                    continue
                content = answer.get("content") or {}
                if not content or not all("schema" in media for media in content.values()):
                    found.append(f"{where}: answer {status} has no schema")
            if method in BODY_METHODS and "requestBody" not in op and not op.get(NO_BODY):
                found.append(f"{where}: no request body")
    return found


def test_the_document_is_valid_openapi(document):
    """openapi-spec-validator finds nothing wrong with the served document."""
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in OpenAPIV30SpecValidator(document).iter_errors()]
    assert errors == []


def test_every_operation_declares_body_answers_and_path_parameters(document):
    """Each operation has a 2xx answer with a schema, schemas for its errors, its path
    parameters and its request body: what a client generator needs."""
    assert problems(document) == []
    staff_health = document["paths"]["/api/v1/staff/{pk}/health"]["get"]["responses"]["200"]
    assert staff_health["content"]["application/json"]["schema"]["properties"]["result"] == {
        "$ref": "#/components/schemas/StaffHealth"}
    login = document["paths"]["/api/v1/security/login"]["post"]
    assert set(login["requestBody"]["content"]["application/json"]["schema"]["required"]) == {
        "username", "password", "provider"}
    imports = document["paths"]["/api/v1/staff/import"]["post"]["requestBody"]["content"]
    assert imports["multipart/form-data"]["schema"]["properties"]["file"] == {"type": "string", "format": "binary"}
    feeds = document["paths"]["/api/v1/feeds/tests"]["post"]["requestBody"]["content"]
    assert set(feeds) == {"application/json", "text/csv"}


def test_errors_are_the_shared_message_components(document):
    """Every 4xx answer of our APIs is a Message, or a ValidationError for a 400."""
    wrong = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            for status, answer in op.get("responses", {}).items() if method in METHODS else ():
                if not status.startswith("4") or "$ref" in answer:  # FAB's own shared answers
                    continue
                schema = answer["content"]["application/json"]["schema"]
                expected = "ValidationError" if status == "400" else "Message"
                if schema != {"$ref": f"#/components/schemas/{expected}"}:
                    wrong.append(f"{method.upper()} {path} {status}")
    assert wrong == []


def test_the_completeness_rule_catches_an_api_that_forgets():
    """An operation without a body, a schema or a declared path parameter is reported."""
    forgetful = {"paths": {
        "/api/v1/thing/{pk}": {
            "put": {"responses": {"200": {"description": "changed"}}},
            "delete": {"responses": {"404": {"description": "gone"}}},
        },
        "/api/v1/thing/{pk}/submit": {
            "parameters": [{"in": "path", "name": "pk", "required": True, "schema": {"type": "integer"}}],
            "post": {NO_BODY: True, "responses": {"204": {"description": "submitted"}}},
        },
    }}
    assert problems(forgetful) == [
        "PUT /api/v1/thing/{pk}: path parameter 'pk' not declared",
        "PUT /api/v1/thing/{pk}: answer 200 has no schema",
        "PUT /api/v1/thing/{pk}: no request body",
        "DELETE /api/v1/thing/{pk}: path parameter 'pk' not declared",
        "DELETE /api/v1/thing/{pk}: no 2xx answer",
        "DELETE /api/v1/thing/{pk}: answer 404 has no schema",
    ]


def test_every_api_route_is_in_the_document(app, document):
    """Each route under /api/ (every method) has its operation in the document, so a
    new API, or a new method of a declared resource, cannot be left out of it."""
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in document["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []


def test_a_declared_resource_describes_the_extra_methods_of_its_class(app):
    """A resource whose API class adds a method (here POST /<id>/archive) gets that
    method in the document too, with its path parameter, answer and component."""
    from dataclasses import replace

    from apispec import APISpec
    from flask_appbuilder import expose
    from flask_appbuilder.security.decorators import permission_name, protect

    from views import openapi as doc
    from views.resources import ResourceApi, build_api
    from views.vaccine_products import VACCINE_PRODUCTS

    class ArchivingApi(ResourceApi):
        openapi_components = {"Archived": doc.obj({"archived": {"type": "integer"}})}

        @expose("/<int:pk>/archive", methods=["POST"])
        @protect()
        @permission_name("put")
        @doc.describe(doc.answer(doc.ref("Archived")), no_body=True, errors=(404,))
        def archive(self, pk: int):
            """Archive a product.

            It stays in the statistics."""

    api = build_api(replace(VACCINE_PRODUCTS, api_class=ArchivingApi))()
    api.route_base = "/api/v1/vaccine_product"
    spec = APISpec(title="t", version="v1", openapi_version="3.0.2")
    with app.test_request_context():
        api.add_api_spec(spec)
    document = spec.to_dict()
    archive = document["paths"]["/api/v1/vaccine_product/{pk}/archive"]["post"]
    assert archive["summary"] == "Archive a product" and archive["description"] == "It stays in the statistics."
    assert archive["parameters"] == [{"in": "path", "name": "pk", "required": True, "schema": {"type": "integer"}}]
    assert archive["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Archived"}
    assert set(archive["responses"]) == {"200", "401", "403", "404"} and archive["tags"] == ["VaccineProduct"]
    assert {"Archived", "VaccineProduct", "VaccineProductInput", "Message"} <= set(document["components"]["schemas"])
    assert problems(document) == []
