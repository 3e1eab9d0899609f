"""Which actions the signed-in user may take, so that pages show only those (no button
that answers 403).

``can(endpoint)`` answers for a page endpoint ("EnterpriseView.add") exactly what
Flask-AppBuilder's ``@has_access`` will decide when it is opened: the permission the
view method declares (``method_permission_name``, else its own name), among the view's
``base_permissions``, held on the view's ``class_permission_name``. ``can(action,
resource)`` asks for one permission directly ("write", "Enterprise"). Templates call
it as the Jinja global ``can``; nothing is decided per template.

An endpoint that names no registered view (a static file, a module not installed) is
refused; a view method without ``@has_access`` is open to whoever reaches the page.
"""
from __future__ import annotations

from typing import Any, Optional

from flask import current_app
from flask_appbuilder.const import PERMISSION_PREFIX


def _view(appbuilder: Any, name: str) -> Any:
    views = current_app.extensions.get("sentinel_views_by_endpoint")
    if views is None or len(views) != len(appbuilder.baseviews):
        views = {getattr(v, "endpoint", None) or v.__class__.__name__: v for v in appbuilder.baseviews}
        current_app.extensions["sentinel_views_by_endpoint"] = views
    return views.get(name)


def required_permission(endpoint: str) -> Optional[tuple[str, str]]:
    """``(permission, resource)`` that opening ``endpoint`` requires, as ``@has_access``
    checks it; None when the method is not protected.

    :raise LookupError: no registered view or method answers to ``endpoint``."""
    view_name, _dot, method_name = endpoint.partition(".")
    view = _view(current_app.appbuilder, view_name)
    method = getattr(view, method_name, None) if view is not None else None
    if method is None:
        raise LookupError(endpoint)
    declared = getattr(method, "_permission_name", None)
    if declared is None:
        return None
    name = (view.method_permission_name or {}).get(method.__name__) or declared
    permission = f"{PERMISSION_PREFIX}{name}"
    if permission not in (view.base_permissions or ()):
        return permission, ""  # never granted: @has_access refuses it to everyone
    return permission, view.class_permission_name


def can(action_or_endpoint: str, resource: Optional[str] = None) -> bool:
    """Whether the current user may open ``endpoint`` ("View.method"), or hold
    ``action`` ("read"/"write") on ``resource``."""
    sm = current_app.appbuilder.sm
    if resource is not None:
        return bool(sm.has_access(f"{PERMISSION_PREFIX}{action_or_endpoint}", resource))
    try:
        needed = required_permission(action_or_endpoint)
    except LookupError:
        return False
    if needed is None:
        return True
    permission, view_resource = needed
    return bool(view_resource) and bool(sm.has_access(permission, view_resource))
