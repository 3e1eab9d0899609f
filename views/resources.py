"""One way to declare a scoped resource: a service (or a model) plus its fields gets
its pages, its REST API, its export, its OpenAPI entry, scope and audit.

    VACCINE_PRODUCTS = Resource(
        name="vaccine_product", title=_("疫苗产品"), permission=R.VACCINE_PRODUCT,
        route="/vaccine_products", service=VaccineProductService(), menu=Menu(...))

``views/__init__.py`` registers every declared resource (:func:`register_resource`),
which builds two classes on Flask-AppBuilder's ``BaseView`` and ``BaseApi`` (they bring
the role permissions, JWT, menus and the OpenAPI registry):

* pages under ``route``: list (keyword search, filters, sort, page sizes 10/20/50/100,
  select the page and delete it with a confirmation that states the count), detail,
  add, edit, delete one, export of the current filter (.xlsx);
* ``/api/v1/<name>/``: ``GET`` (the list, in the plain or FAB's rison form, answering
  ``{"count", "ids", "result"}``), ``POST``, ``GET/PUT/DELETE /<id>`` and
  ``GET /export``, each described in the OpenAPI document with its request body and
  answers.

Why our own base rather than FAB's ``ModelView``/``ModelRestApi``: their
``SQLAInterface`` commits inside ``add``/``edit``/``delete`` (our operations own the
transaction), their ``/related`` and ``_info`` endpoints list related rows outside our
scope rules, and their marshmallow schemas cannot carry declared per-type fields,
masked personal data or a blind-index search. Reads go through ``app.security.scope``
(outside the scope = 404), writes through the service's operations.

A module with a flow of its own subclasses :class:`ResourceView` / :class:`ResourceApi`
(``Resource(view_class=…)``) and overrides only the pages it needs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name, protect

from app.domain.errors import OutOfScope, ServiceError
from app.domain.fields import Field
from app.domain.i18n import _
from app.services.listing import ListQuery, parse_list_args
from app.services.paging import PAGE_SIZES
from app.services.resource_export import export_rows
from app.services.resources import ModelService, masked, read_attr
from app.services import exports
from views import openapi
from views.menus import CATEGORY_ICONS, CATEGORY_LABELS
from views.base import ScopedApi, ScopedView, rw_map

PAGES = ("list", "detail", "add", "edit", "delete", "export")
API_METHODS = ("get_list", "get", "post", "put", "delete", "export")


@dataclass(frozen=True)
class Menu:
    """Where the resource's list appears: a category (views/menus.py constants)."""

    category: str
    label: Any
    icon: str = "fa-list"
    name: Optional[str] = None  # the menu item's name (permission "menu_access" target)
    # shown only when this holds for the request (beyond the permission), e.g. only the
    # bureau the resource's rows belong to
    cond: Optional[Callable[[], bool]] = None


@dataclass
class Resource:
    """A declared resource. ``name`` is the API's resource name (``/api/v1/<name>/``)
    and, camel-cased, the classes' names (``VaccineProductView`` …); ``permission`` the
    roles-as-data resource (read / write); ``route`` the pages' URL prefix."""

    name: str
    title: Any
    permission: str
    service: ModelService
    route: str
    menu: Optional[Menu] = None
    pages: tuple[str, ...] = PAGES
    api: tuple[str, ...] = API_METHODS
    item_title: Callable[[Any], str] = field(default=lambda row: str(row))
    view_class: Optional[type] = None
    api_class: Optional[type] = None
    list_template: str = "sentinel/resource_list.html"
    detail_template: str = "sentinel/resource_detail.html"
    form_template: str = "sentinel/resource_form.html"
    export_title: Any = None
    # 导出全部 of a resource with columns of its own: (session, scope, list query, request
    # args) → app.services.exports.Export; default: the declared fields (resource_export).
    export: Optional[Callable[..., Any]] = None

    @property
    def camel(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def fields(self) -> list[Field]:
        return self.service.fields

    def list_fields(self) -> list[Field]:
        return [f for f in self.fields if f.list]

    def detail_fields(self) -> list[Field]:
        return [f for f in self.fields if f.detail]

    def form_fields(self, creating: bool) -> list[Field]:
        return [f for f in self.fields if f.writable and (creating or not f.create_only)]


def registered_resources(app=None) -> dict[str, Resource]:
    """The resources registered in ``app`` (default: the current app), by name."""
    app = app or current_app
    return app.extensions.setdefault("sentinel_resources", {})


def export_of(resource: Resource, session, scope, query: ListQuery):
    """The resource's 导出全部 for this list request (its own export, or its fields')."""
    if resource.export is not None:
        return resource.export(session, scope, query, request.args)
    return export_rows(session, scope, resource, query)


# --- pages -----------------------------------------------------------------------

class ResourceView(ScopedView):
    """The pages of a declared resource (set as ``resource`` by :func:`build_view`)."""

    resource: Resource
    method_permission_name = rw_map()
    default_view = "list"

    # template helpers
    def _context(self, **extra: Any) -> dict[str, Any]:
        res = self.resource
        # buttons follow the user's permissions through the template global ``can``
        # (app/security/actions.py)
        return dict(res=res, endpoint=self.__class__.__name__,
                    read_attr=read_attr, masked=masked, page_sizes=PAGE_SIZES, **extra)

    def list_query(self) -> ListQuery:
        return parse_list_args(request.args, self.resource.fields, strict_sizes=True)

    @expose("/")
    @has_access
    def list(self):
        query = self.list_query()
        page = self.resource.service.page(self.session, self.scope, query)
        args = {k: v for k, v in request.args.items() if k not in ("page",)}
        return self.render_template(self.resource.list_template, page=page, query=query, args=args,
                                    title=self.resource.title, **self._context())

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk: int):
        row = self.resource.service.read(self.session, self.scope, pk)
        return self.render_template(self.resource.detail_template, row=row,
                                    title=self.resource.item_title(row), **self._context())

    def _form(self, row=None, data=None, errors=None, status=200, title=None):
        creating = row is None
        if data is None:
            data = self.resource.service.to_dict(row) if row is not None else {
                f.key: f.default for f in self.resource.fields}
        if title is None:
            title = (_("新增%(title)s", title=self.resource.title) if creating
                     else _("编辑%(title)s", title=self.resource.title))
        return self.render_template(self.resource.form_template, row=row, data=data, errors=errors or {},
                                    fields=self.resource.form_fields(creating), title=title,
                                    **self._context()), status

    @staticmethod
    def _posted(fields: list[Field]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields:
            if f.kind == "bool":
                data[f.key] = f.key in request.form
            elif f.key in request.form:
                data[f.key] = request.form.get(f.key)
        return data

    @staticmethod
    def _errors(err: ServiceError) -> dict[str, str]:
        out: dict[str, list[str]] = {}
        for e in err.errors:
            out.setdefault(e.field, []).append(str(e.message))
        return {k: "；".join(v) for k, v in out.items()}

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        if request.method == "GET":
            return self._form()
        data = self._posted(self.resource.form_fields(True))
        try:
            row = self.resource.service.create(self.session, self.scope, data)
        except ServiceError as err:
            flash(str(err.message), "danger")
            return self._form(data=data, errors=self._errors(err), status=err.status)
        flash(str(_("已保存")), "success")
        return redirect(url_for(f"{self.__class__.__name__}.detail", pk=row.id))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk: int):
        row = self.resource.service.get(self.session, self.scope, pk)
        if request.method == "GET":
            return self._form(row)
        data = self._posted(self.resource.form_fields(False))
        try:
            self.resource.service.update(self.session, self.scope, pk, data)
        except ServiceError as err:
            flash(str(err.message), "danger")
            return self._form(row, data={**self.resource.service.to_dict(row), **data},
                              errors=self._errors(err), status=err.status)
        flash(str(_("已保存")), "success")
        return redirect(url_for(f"{self.__class__.__name__}.detail", pk=pk))

    @expose("/delete", methods=["POST"])
    @has_access
    def delete(self):
        """Delete the posted ``ids`` that are in scope (删除选中 / 删除本页 / a detail's 删除)."""
        try:
            count = self.resource.service.delete_many(self.session, self.scope, request.form.getlist("ids"))
        except ServiceError as err:
            flash(str(err.message), "danger")
        else:
            flash(str(_("已删除 %(n)d 条数据", n=count)), "success")
        return redirect(url_for(f"{self.__class__.__name__}.list"))

    @expose("/export")
    @has_access
    def export(self):
        """导出全部: every row in scope matching the list's filter."""
        return exports.download(export_of(self.resource, self.session, self.scope, self.list_query()))


# --- API -------------------------------------------------------------------------

class ResourceApi(ScopedApi):
    """``/api/v1/<name>/`` of a declared resource (set as ``resource`` by :func:`build_api`)."""

    resource: Resource
    method_permission_name = rw_map()

    def add_api_spec(self, api_spec) -> None:
        openapi.add_resource_paths(api_spec, self)

    def _dict(self, row, *, masked_values: bool = False) -> dict[str, Any]:
        """A row's JSON: ID numbers and phones masked in lists, and in one row's detail
        for the roles that may not read them in full (``Scope.full_numbers``)."""
        masked_values = masked_values or not self.scope.full_numbers
        return self.resource.service.to_dict(row, masked_values=masked_values)

    @expose("/", methods=["GET"])
    @protect()
    @permission_name("get_list")
    def get_list(self):
        query = parse_list_args(request.args, self.resource.fields,
                                max_size=current_app.config["FAB_API_MAX_PAGE_SIZE"])
        page = self.resource.service.page(self.session, self.scope, query)
        return self.response(200, count=page.total, page=query.page, page_size=query.size,
                             ids=[row.id for row in page.items],
                             result=[self._dict(row, masked_values=True) for row in page.items])

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @permission_name("get")
    def get(self, pk: int):
        row = self.resource.service.read(self.session, self.scope, pk, reading=self._dict)
        return self.response(200, id=pk, result=row)

    @expose("/", methods=["POST"])
    @protect()
    @permission_name("post")
    def post(self):
        row = self.resource.service.create(self.session, self.scope, self.json_body())
        return self.response(201, id=row.id, result=self._dict(row))

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @permission_name("put")
    def put(self, pk: int):
        row = self.resource.service.update(self.session, self.scope, pk, self.json_body())
        return self.response(200, id=row.id, result=self._dict(row))

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @permission_name("delete")
    def delete(self, pk: int):
        if not self.resource.service.delete_many(self.session, self.scope, [pk]):
            raise OutOfScope(self.resource.service.entity, pk)
        return self.response(200, message=str(_("已删除")))

    @expose("/export", methods=["GET"])
    @protect(allow_browser_login=True)
    @permission_name("export")
    def export(self):
        query = parse_list_args(request.args, self.resource.fields,
                                max_size=current_app.config["FAB_API_MAX_PAGE_SIZE"])
        return exports.download(export_of(self.resource, self.session, self.scope, query))


# --- building and registering ------------------------------------------------------

def build_view(resource: Resource) -> type:
    base = resource.view_class or ResourceView
    excluded = {name for name in PAGES if name not in resource.pages}
    return type(f"{resource.camel}View", (base,), {
        "resource": resource, "route_base": resource.route,
        "class_permission_name": resource.permission, "exclude_route_methods": excluded,
    })


def build_api(resource: Resource) -> type:
    base = resource.api_class or ResourceApi
    excluded = {name for name in API_METHODS if name not in resource.api}
    return type(f"{resource.camel}Api", (base,), {
        "resource": resource, "resource_name": resource.name,
        "class_permission_name": resource.permission, "exclude_route_methods": excluded,
        "openapi_spec_tag": resource.camel,
    })


def register_resource(appbuilder, resource: Resource) -> None:
    """Register the resource's pages, API and menu entry (views/__init__.py only)."""
    registry = registered_resources(current_app)
    if resource.name in registry:
        raise ValueError(f"resource {resource.name!r} declared twice")
    registry[resource.name] = resource
    if resource.pages:
        view = build_view(resource)
        if resource.menu is not None:
            menu = resource.menu
            appbuilder.add_view(view, menu.name or resource.camel, label=menu.label, icon=menu.icon,
                                category=menu.category, category_label=CATEGORY_LABELS.get(menu.category, ""),
                                category_icon=CATEGORY_ICONS.get(menu.category, ""), menu_cond=menu.cond)
        else:
            appbuilder.add_view_no_menu(view)
    if resource.api:
        appbuilder.add_api(build_api(resource))
