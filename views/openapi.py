"""The OpenAPI document (``/api/v1/_openapi``), built from Python declarations, so every
operation states its parameters, request body and answers with schemas (a client
generator can use them) instead of hand-written docstring YAML.

Two ways in, one vocabulary:

* a declared resource (views/resources.py) gets its entries from its fields
  (:func:`add_resource_paths`);
* a hand-written API method declares its operation with :func:`describe`; the
  :class:`DescribedApi` mixin (on ``views.base.ScopedApi``) puts it in the document,
  with the summary and description from the method's docstring, the JWT security and
  401/403 of a protected method, 413 where it takes a body, and its path parameters
  from the URL rule (``<int:pk>`` → integer).

Shared components: ``Message`` (``{"message"}``, every error), ``ValidationError``
(``{"message", "errors": {field: reason}}``, a 400). Per resource ``<Camel>``: ``<Camel>``
(a row as the API answers it), ``<Camel>Input`` (what POST takes), ``<Camel>Update``
(what PUT takes: any subset), ``<Camel>List``.

An operation that takes no request body although it is a POST/PUT says so with
``x-no-request-body: true``; tests/integration/api/test_openapi.py holds every operation
to these rules.
"""
from __future__ import annotations

import copy
import inspect
import re
from typing import Any, Callable, Iterable, Optional

from apispec.exceptions import DuplicateComponentNameError

from app.domain.fields import Field

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_BODY = "x-no-request-body"

MESSAGE = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
VALIDATION = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "The reason per field key"},
    },
    "required": ["message"],
}
ERROR_TEXT = {
    400: "Bad input (message in Chinese)",
    401: "Not logged in, or the token expired",
    403: "No permission for this resource",
    404: "Not found, or outside the caller's scope",
    409: "Conflicts with a stored row",
    413: "The request is too large",
    429: "Too many attempts: try again later",
}
JWT = [{"jwt": []}]


# --- components and schemas ------------------------------------------------------

def add_component(api_spec, name: str, schema: dict) -> None:
    try:
        api_spec.components.schema(name, schema)
    except DuplicateComponentNameError:
        pass


def add_shared_components(api_spec) -> None:
    add_component(api_spec, "Message", MESSAGE)
    add_component(api_spec, "ValidationError", VALIDATION)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, dict], required: Iterable[str] = (), description: Optional[str] = None) -> dict:
    """An object schema; ``required`` names the keys always present."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def array(items: dict, description: Optional[str] = None) -> dict:
    schema: dict[str, Any] = {"type": "array", "items": items}
    if description:
        schema["description"] = description
    return schema


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


# --- answers, bodies, parameters ---------------------------------------------------

def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def answer(schema: dict, description: str = "OK") -> dict:
    """A JSON answer with its schema."""
    return {"description": description, "content": json_content(schema)}


def xlsx(description: str = "The workbook (.xlsx)") -> dict:
    """A spreadsheet answer (a download)."""
    return {"description": description, "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}


def error(status: int) -> dict:
    schema = ref("ValidationError") if status == 400 else ref("Message")
    return {"description": ERROR_TEXT[status], "content": json_content(schema)}


def error_answers(*statuses: int) -> dict:
    return {str(s): error(s) for s in sorted(set(statuses))}


def request_body(content: dict, description: Optional[str] = None) -> dict:
    body: dict[str, Any] = {"required": True, "content": content}
    if description:
        body["description"] = description
    return body


def json_body(schema: dict, description: Optional[str] = None) -> dict:
    return request_body(json_content(schema), description)


def form_body(properties: dict[str, dict], required: Iterable[str] = ("file",),
              description: Optional[str] = None) -> dict:
    """``multipart/form-data``: a ``file`` field (binary) and the other form fields."""
    fields = {"file": {"type": "string", "format": "binary"}, **properties}
    return request_body({"multipart/form-data": {"schema": obj(fields, required)}}, description)


def query(name: str, schema: dict, description: Optional[str] = None, required: bool = False) -> dict:
    param: dict[str, Any] = {"in": "query", "name": name, "schema": schema, "required": required}
    if description:
        param["description"] = description
    return param


def operation(summary: str, ok: dict, *, status: int = 200, errors: Iterable[int] = (),
              body: Optional[dict] = None, params: Iterable[dict] = (), description: Optional[str] = None,
              protected: bool = True, no_body: bool = False) -> dict:
    """One operation: ``ok`` is the answer for ``status``; ``errors`` the statuses of the
    other answers (401 and 403 are added when ``protected``, 413 with a ``body``).
    ``no_body`` marks a POST/PUT that takes none."""
    statuses = set(errors) | ({401, 403} if protected else set()) | ({413} if body else set())
    spec: dict[str, Any] = {"summary": summary, "responses": {str(status): ok, **error_answers(*statuses)},
                            "security": JWT if protected else []}
    if description:
        spec["description"] = description
    if params:
        spec["parameters"] = list(params)
    if body:
        spec["requestBody"] = body
    if no_body:
        spec[NO_BODY] = True
    return spec


# --- hand-written API methods --------------------------------------------------------

def describe(ok: dict, **spec: Any) -> Callable:
    """Declare the OpenAPI operation of an API method: ``ok`` (its answer) and the
    keyword arguments of :func:`operation`; the summary (first line) and description
    (the rest) come from the method's docstring. Put it right above the ``def``."""

    def mark(func: Callable) -> Callable:
        func._openapi = dict(ok=ok, **spec)
        return func

    return mark


def _docstring(func: Callable) -> tuple[str, Optional[str]]:
    text = (inspect.getdoc(func) or func.__name__).split("\n---", 1)[0].strip()
    first, _sep, rest = text.partition("\n\n")
    return " ".join(first.split()).rstrip("."), (" ".join(rest.split()) or None)


_RULE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_CONVERTERS = {"int": {"type": "integer"}, "float": {"type": "number"},
               "uuid": {"type": "string", "format": "uuid"}}


def path_parameters(func: Callable) -> list[dict]:
    """The path parameters of ``func``'s URL rules (``<int:pk>`` → integer, else string)."""
    found: dict[str, dict] = {}
    for url, _methods in getattr(func, "_urls", ()):
        for converter, name in _RULE.findall(url):
            found[name] = {"in": "path", "name": name, "required": True,
                           "schema": dict(_CONVERTERS.get(converter, {"type": "string"}))}
    return list(found.values())


def declare_path_parameters(path: str, operations: dict, func: Callable) -> None:
    """Add the path parameters of ``path`` that an operation does not declare itself."""
    wanted = [p for p in path_parameters(func) if "{%s}" % p["name"] in path]
    for spec in operations.values():
        params = spec.setdefault("parameters", [])
        declared = {p.get("name") for p in params if p.get("in") == "path"}
        params.extend(copy.deepcopy(p) for p in wanted if p["name"] not in declared)
        if not params:
            del spec["parameters"]


class DescribedApi:
    """Mixed into a Flask-AppBuilder ``BaseApi``: methods marked with :func:`describe`
    get their operation from the declaration (docstring YAML is not read for them), every
    method gets its path parameters from its URL rule, and the shared components plus
    ``openapi_components`` (name → schema) are registered."""

    openapi_components: dict[str, dict] = {}

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        add_shared_components(api_spec)
        for name, schema in self.openapi_components.items():
            add_component(api_spec, name, schema)

    def operation_helper(self, path=None, operations=None, methods=None, func=None, **kwargs) -> None:
        declared = getattr(func, "_openapi", None)
        if declared is None:
            super().operation_helper(path=path, operations=operations, methods=methods, func=func, **kwargs)
        else:
            summary, description = _docstring(func)
            spec = operation(**{"summary": summary, "description": description, **declared,
                                "protected": hasattr(func, "_permission_name")})
            for method in methods:
                operations[method.lower()] = copy.deepcopy(spec)
        declare_path_parameters(path, operations, func)


def add_method_paths(api_spec, api, skip: Iterable[str] = ()) -> None:
    """What Flask-AppBuilder's ``add_api_spec`` does, for the exposed methods of ``api``
    not named in ``skip`` (a declared resource's own extra methods)."""
    skipped = set(skip) | set(api.exclude_route_methods)
    tag = [api.openapi_spec_tag or type(api).__name__]
    for name, func in inspect.getmembers(type(api), inspect.isfunction):
        if name in skipped or not hasattr(func, "_urls"):
            continue
        if api.include_route_methods is not None and name not in api.include_route_methods:
            continue
        bound = getattr(api, name)
        for url, methods in func._urls:
            operations: dict[str, Any] = {}
            path = api.path_helper(path=url, operations=operations)
            api.operation_helper(path=path, operations=operations, methods=methods, func=bound)
            for spec in operations.values():
                spec["tags"] = tag
            api_spec.path(path=path, operations=operations)


# --- declared resources ----------------------------------------------------------------

def _choice_type(f: Field) -> Optional[str]:
    """The JSON type of a choice field's values (integer for ids), from its choices."""
    try:
        values = [value for value, _label in f.choice_pairs()]
    except Exception:  # choices read at request time may need what the spec build lacks
        return None
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    return "string"


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
    elif f.kind == "choice":
        kind = _choice_type(f)
        schema = {"type": kind} if kind else {}
        if not callable(f.choices):
            schema["enum"] = [value if kind == "integer" else str(value) for value, _label in f.choice_pairs()]
    else:
        schema = {"type": "string"}
        if f.max_length:
            schema["maxLength"] = f.max_length
    schema["description"] = str(f.label) + (f" — {f.description}" if f.description else "")
    if not f.required and f.kind != "json":
        schema["nullable"] = True
        if "enum" in schema:
            schema["enum"].append(None)
    return schema


def row_schema(fields: list[Field], extra: Optional[dict[str, dict]] = None) -> dict:
    """A row as the API answers it: ``id``, the output fields and the ``extra`` keys
    (name → schema: what the service's ``to_dict`` adds); every key always present."""
    props = {"id": {"type": "integer"}}
    props.update({f.key: field_schema(f) for f in fields if f.output})
    props.update(copy.deepcopy(dict(extra or {})))
    return obj(props, required=list(props))


def input_schema(fields: list[Field], *, creating: bool = True) -> dict:
    """What POST (``creating``: required fields required) or PUT (any subset; fields
    fixed at creation are left out) takes; ``fields`` are the service's input fields."""
    writable = [f for f in fields if creating or not f.create_only]
    return obj({f.key: field_schema(f) for f in writable},
               required=[f.key for f in writable if f.required] if creating else ())


def list_parameters(fields: list[Field]) -> list[dict]:
    params = [
        query("q", {"type": "string"},
              "A keyword, or Flask-AppBuilder's rison form "
              "(filters:!((col:…,opr:…,value:…)),order_column:…,order_direction:asc|desc,page:0,page_size:…)"),
        query("page", {"type": "integer", "minimum": 1}, "Page number from 1 (keyword form)"),
        query("page_size", {"type": "integer", "minimum": 1, "maximum": 100}),
    ]
    for f in fields:
        if "eq" in f.filters:
            params.append(query(f.key, field_schema(f), f"{f.label}: equal to"))
    return params


def list_schema(item: dict) -> dict:
    """A page of a list: ``{"count", "page", "page_size", "ids", "result"}``."""
    return obj({
        "count": {"type": "integer", "description": "Rows matching the filter, every page"},
        "page": {"type": "integer"}, "page_size": {"type": "integer"},
        "ids": array({"type": "integer"}), "result": array(item),
    }, required=("count", "ids", "result"))


def one_schema(item: dict) -> dict:
    """One row: ``{"id", "result"}``."""
    return obj({"id": {"type": "integer"}, "result": item}, required=("id", "result"))


PK = {"in": "path", "name": "pk", "required": True, "schema": {"type": "integer"}}
RESOURCE_METHODS = ("get_list", "post", "get", "put", "delete", "export")  # what add_resource_paths describes


def add_resource_paths(api_spec, api) -> None:
    """Add the paths of a ResourceApi instance: the methods it registered, and the extra
    methods of its class (described like any hand-written method)."""
    resource = api.resource
    camel, fields = resource.camel, resource.fields
    api.add_apispec_components(api_spec)  # the shared ones and the class's openapi_components
    add_component(api_spec, camel, row_schema(fields, resource.service.output_schemas))
    inputs = resource.service.input_fields()
    add_component(api_spec, f"{camel}Input", input_schema(inputs))
    add_component(api_spec, f"{camel}Update", input_schema(inputs, creating=False))
    add_component(api_spec, f"{camel}List", list_schema(ref(camel)))
    one = one_schema(ref(camel))
    title = str(resource.title)
    base = api.route_base
    enabled = set(resource.api)
    collection: dict[str, Any] = {}
    item: dict[str, Any] = {}
    if "get_list" in enabled:
        collection["get"] = operation(f"{title}: list (in the caller's scope)", answer(ref(f"{camel}List"), "One page"),
                                      params=list_parameters(fields), errors=(400,))
    if "post" in enabled:
        collection["post"] = operation(f"{title}: create", answer(one, "Created"), status=201,
                                       body=json_body(ref(f"{camel}Input")), errors=(400, 404, 409))
    if "get" in enabled:
        item["get"] = operation(f"{title}: one row", answer(one, "The row"), errors=(404,))
    if "put" in enabled:
        item["put"] = operation(f"{title}: change (the fields sent)", answer(one, "Changed"),
                                body=json_body(ref(f"{camel}Update")), errors=(400, 404, 409))
    if "delete" in enabled:
        item["delete"] = operation(f"{title}: delete", answer(ref("Message"), "Deleted"), errors=(404, 409))
    tag = [api.openapi_spec_tag or camel]
    for operations in (collection, item):
        for spec in operations.values():
            spec["tags"] = tag
    if collection:
        api_spec.path(path=f"{base}/", operations=collection)
    if item:
        api_spec.path(path=f"{base}/{{pk}}", operations=item, parameters=[PK])
    if "export" in enabled:
        export = operation(f"{title}: export the filtered list as .xlsx (audited)",
                           xlsx("The workbook; X-Export-Rows holds the row count"),
                           params=list_parameters(fields), errors=(400,))
        api_spec.path(path=f"{base}/export", operations={"get": {**export, "tags": tag}})
    add_method_paths(api_spec, api, skip=RESOURCE_METHODS)
