"""OpenAPI entries built from declarations, so every operation of a declared resource
states its parameters, request body and answers with schemas (a client generator can
use them) instead of hand-written docstring YAML.

Shared components: ``Message`` (``{"message"}``, every error), ``ValidationError``
(``{"message", "errors": {field: reason}}``). Per resource ``<Camel>``: ``<Camel>`` (a row
as the API answers it), ``<Camel>Input`` (what POST/PUT take), ``<Camel>List``.
"""
from __future__ import annotations

from typing import Any

from apispec.exceptions import DuplicateComponentNameError

from app.domain.fields import Field

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MESSAGE = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
VALIDATION = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["message"],
}
ERROR_TEXT = {
    400: "Bad input (message in Chinese)",
    401: "Not logged in",
    403: "No permission for this resource",
    404: "Not found, or outside the caller's scope",
    409: "Conflicts with a stored row",
}


def add_component(api_spec, name: str, schema: dict) -> None:
    try:
        api_spec.components.schema(name, schema)
    except DuplicateComponentNameError:
        pass


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def error(status: int) -> dict:
    schema = ref("ValidationError") if status == 400 else ref("Message")
    return {"description": ERROR_TEXT[status], "content": json_content(schema)}


def errors(*statuses: int) -> dict:
    return {str(s): error(s) for s in statuses}


def field_schema(f: Field) -> dict[str, Any]:
    schema: dict[str, Any]
    if f.kind == "int":
        schema = {"type": "integer"}
        if f.minimum is not None:
            schema["minimum"] = f.minimum
        if f.maximum is not None:
            schema["maximum"] = f.maximum
    elif f.kind == "bool":
        schema = {"type": "boolean"}
    elif f.kind == "date":
        schema = {"type": "string", "format": "date"}
    elif f.kind == "datetime":
        schema = {"type": "string", "format": "date-time"}
    elif f.kind == "lines":
        schema = {"type": "array", "items": {"type": "string"}}
    elif f.kind == "json":
        schema = {}
    else:
        schema = {"type": "string"}
        if f.max_length:
            schema["maxLength"] = f.max_length
        if f.kind == "choice" and not callable(f.choices):
            schema["enum"] = [str(value) for value, _label in f.choice_pairs()]
    schema["description"] = str(f.label) + (f" — {f.description}" if f.description else "")
    if not f.required and f.kind not in ("json",):
        schema["nullable"] = True
    return schema


def row_schema(fields: list[Field]) -> dict:
    props = {"id": {"type": "integer"}}
    props.update({f.key: field_schema(f) for f in fields if f.output})
    return {"type": "object", "properties": props}


def input_schema(writable: list[Field]) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": {f.key: field_schema(f) for f in writable}}
    required = [f.key for f in writable if f.required]
    if required:
        schema["required"] = required
    return schema


def list_parameters(fields: list[Field]) -> list[dict]:
    params = [
        {"in": "query", "name": "q", "schema": {"type": "string"},
         "description": "A keyword, or Flask-AppBuilder's rison form "
                        "(filters:!((col:…,opr:…,value:…)),order_column:…,order_direction:asc|desc,page:0,page_size:…)"},
        {"in": "query", "name": "page", "schema": {"type": "integer", "minimum": 1},
         "description": "Page number from 1 (keyword form)"},
        {"in": "query", "name": "page_size", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
    ]
    for f in fields:
        if "eq" in f.filters:
            params.append({"in": "query", "name": f.key, "schema": field_schema(f), "required": False,
                           "description": f"{f.label}: equal to"})
    return params


PK = {"in": "path", "name": "pk", "required": True, "schema": {"type": "integer"}}
JWT = [{"jwt": []}]


def add_resource_paths(api_spec, api) -> None:
    """Add the paths of a ResourceApi instance (only the methods it registered)."""
    resource = api.resource
    camel, fields = resource.camel, resource.fields
    add_component(api_spec, "Message", MESSAGE)
    add_component(api_spec, "ValidationError", VALIDATION)
    add_component(api_spec, camel, row_schema(fields))
    add_component(api_spec, f"{camel}Input", input_schema(resource.service.input_fields()))
    add_component(api_spec, f"{camel}List", {
        "type": "object",
        "properties": {
            "count": {"type": "integer"}, "page": {"type": "integer"}, "page_size": {"type": "integer"},
            "ids": {"type": "array", "items": {"type": "integer"}},
            "result": {"type": "array", "items": ref(camel)},
        },
        "required": ["count", "ids", "result"],
    })
    one = {"type": "object", "properties": {"id": {"type": "integer"}, "result": ref(camel)}}
    body = {"required": True, "content": json_content(ref(f"{camel}Input"))}
    title = str(resource.title)
    base = api.route_base
    enabled = set(resource.api)
    collection: dict[str, Any] = {}
    item: dict[str, Any] = {}
    if "get_list" in enabled:
        collection["get"] = {
            "summary": f"{title}: list (in the caller's scope)", "parameters": list_parameters(fields),
            "responses": {"200": {"description": "One page", "content": json_content(ref(f"{camel}List"))},
                          **errors(400, 401, 403)}}
    if "post" in enabled:
        collection["post"] = {
            "summary": f"{title}: create", "requestBody": body,
            "responses": {"201": {"description": "Created", "content": json_content(one)},
                          **errors(400, 401, 403, 404, 409)}}
    if "get" in enabled:
        item["get"] = {"summary": f"{title}: one row", "responses": {
            "200": {"description": "The row", "content": json_content(one)}, **errors(401, 403, 404)}}
    if "put" in enabled:
        item["put"] = {"summary": f"{title}: change (partial)", "requestBody": body, "responses": {
            "200": {"description": "Changed", "content": json_content(one)}, **errors(400, 401, 403, 404, 409)}}
    if "delete" in enabled:
        item["delete"] = {"summary": f"{title}: delete", "responses": {
            "200": {"description": "Deleted", "content": json_content(ref("Message"))}, **errors(401, 403, 404, 409)}}
    tag = [camel]
    for operations in (collection, item):
        for spec in operations.values():
            spec["tags"] = tag
            spec["security"] = JWT
    if collection:
        api_spec.path(path=f"{base}/", operations=collection)
    if item:
        api_spec.path(path=f"{base}/{{pk}}", operations=item, parameters=[PK])
    if "export" in enabled:
        api_spec.path(path=f"{base}/export", operations={"get": {
            "summary": f"{title}: export the filtered list as .xlsx (audited)", "tags": tag, "security": JWT,
            "parameters": list_parameters(fields),
            "responses": {"200": {"description": "The workbook; X-Export-Rows holds the row count",
                                  "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}},
                          **errors(400, 401, 403)}}})
