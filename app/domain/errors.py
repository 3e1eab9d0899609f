"""Errors raised by domain rules."""

from app.domain.i18n import _


class RuleError(ValueError):
    """A business rule rejected a value.

    ``field`` is the key of the offending input (e.g. ``"id_number"``), ``message``
    a short, user-facing reason (a lazy string; ``str(err)`` renders it).
    """

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self):
        return str(self.message)

    def __repr__(self):
        return f"RuleError(field={self.field!r}, message={str(self.message)!r})"


def column_format_message(label):
    """The manual's per-column import error, e.g. 列为“身份证号码”，数据格式不正确！"""
    return _("列为“%(label)s”，数据格式不正确！", label=label)


class OutOfScope(LookupError):
    """The row does not exist for this principal (rendered as 404, never 403, so ids
    cannot be probed). ``entity`` names the model, ``target`` the id asked for."""

    def __init__(self, entity: str, target=None):
        super().__init__(entity)
        self.entity = entity
        self.target = target


class ServiceError(Exception):
    """An operation refused its input; ``message`` is for the user (Chinese, lazy),
    ``errors`` the per-field reasons. Rendered with ``status`` by the HTTP layer."""

    status = 400

    def __init__(self, message, errors: "list[RuleError] | None" = None):
        super().__init__(str(message))
        self.message = message
        self.errors = errors or []

    def as_dict(self) -> dict:
        out: dict = {"message": str(self.message)}
        if self.errors:
            out["errors"] = {e.field: str(e.message) for e in self.errors}
        return out


class ValidationFailed(ServiceError):
    status = 400

    def __init__(self, errors: "list[RuleError]"):
        super().__init__("；".join(str(e.message) for e in errors), errors)


class Conflict(ServiceError):
    status = 409


class TooManyRequests(ServiceError):
    status = 429
