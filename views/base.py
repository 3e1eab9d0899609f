"""Base classes for our views and APIs: permissions per resource, read/write.

Scope is not decided here: views call services, services call app.security.scope.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_appbuilder import BaseView
from flask_appbuilder.api import BaseApi
from flask_babel import lazy_gettext as _

from app.domain.errors import ServiceError
from app.platform.extensions import db
from app.platform.http import MESSAGES
from app.security.scope import current_scope
from app.services.paging import clamp_page, clamp_size
from views.openapi import DescribedApi

READ_METHODS = ("list", "detail", "export", "template", "info", "get", "get_list", "health", "home", "job")
WRITE_METHODS = ("add", "edit", "delete", "post", "put", "delete_one", "import_", "import_file", "select")


def answer(status: int, payload: dict):
    """``payload`` as JSON with ``status``: BaseApi.response's keywords cannot carry a key
    named ``code`` (a pass's code, SPEC §9)."""
    return jsonify(payload), status


def rw_map(extra_read=(), extra_write=()) -> dict[str, str]:
    """Method → 'read'/'write': two permissions per resource instead of six."""
    mapping = {m: "read" for m in READ_METHODS + tuple(extra_read)}
    mapping.update({m: "write" for m in WRITE_METHODS + tuple(extra_write)})
    return mapping


class _Scoped:
    """The database session and the caller's scope, for views and APIs alike."""

    @property
    def session(self):
        return db.session

    @property
    def scope(self):
        return current_scope()


class ScopedView(_Scoped, BaseView):
    """HTML view of one resource. Subclasses set ``class_permission_name``."""

    method_permission_name = rw_map()
    default_view = "list"

    @staticmethod
    def paging() -> tuple[int, int]:
        return clamp_page(request.args.get("page")), clamp_size(request.args.get("size"))


class ScopedApi(_Scoped, DescribedApi, BaseApi):
    """JSON API of one resource, JWT only, errors as {"message": …} in Chinese; its
    methods declare their OpenAPI operations with ``views.openapi.describe``."""

    method_permission_name = rw_map()
    openapi_spec_tag = None

    def response_400(self, message: Any = None):
        return self.response(400, message=str(message or MESSAGES[400]))

    def response_401(self):
        return self.response(401, message=str(MESSAGES[401]))

    def response_403(self):
        return self.response(403, message=str(MESSAGES[403]))

    def response_404(self):
        return self.response(404, message=str(MESSAGES[404]))

    def response_422(self, message: Any = None):
        return self.response(400, message=str(message or MESSAGES[400]))

    def json_body(self) -> Any:
        """The request's JSON, or a 400 with a clear message."""
        data = request.get_json(silent=True)
        if data is None:
            raise ServiceError(_("请求内容应为 JSON"))
        return data

    def json_object(self) -> dict:
        """The request's JSON object, or a 400 with a clear message."""
        data = self.json_body()
        if not isinstance(data, dict):
            raise ServiceError(_("请求内容应为 JSON 对象"))
        return data

    def page_args(self) -> tuple[int, int]:
        """?page= (1-based) and ?page_size= (capped by FAB_API_MAX_PAGE_SIZE)."""
        try:
            size = int(request.args.get("page_size") or request.args.get("size") or 20)
        except ValueError:
            size = 20
        return clamp_page(request.args.get("page")), max(1, min(size, current_app.config["FAB_API_MAX_PAGE_SIZE"]))
