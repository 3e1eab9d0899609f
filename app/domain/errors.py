"""Every error the app raises on purpose, in one bottom module (no Flask import) so any
layer may raise or catch them; app/platform/http.py maps them to responses.

* :class:`RuleError` — a domain rule rejected one value (a field and a reason);
* :class:`ServiceError` (400) and its kinds :class:`ValidationFailed` (400),
  :class:`Conflict` (409), :class:`TooLarge` (413) and :class:`TooManyRequests` (429) — an operation refused,
  with a message the user reads (a lazy string is fine: it renders when shown);
* :class:`OutOfScope` — the row does not exist *for this user*: always answered as
  404, never 403, so ids cannot be probed.
"""

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


class ServiceError(Exception):
    """An operation refused; ``message`` is shown to the user, ``errors`` name the fields."""

    status = 400

    def __init__(self, message, errors: list[RuleError] | None = None):
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

    def __init__(self, errors: list[RuleError]):
        super().__init__("；".join(str(e.message) for e in errors), errors)


class Conflict(ServiceError):
    status = 409


class TooManyRequests(ServiceError):
    status = 429


class TooLarge(ServiceError):
    status = 413


class OutOfScope(LookupError):
    """The row does not exist for this user (rendered as 404, never 403, so ids cannot be
    probed; recorded as a security event). ``model`` names what was asked for;
    ``target_id`` is the id tried, kept only when it is a number (never other input)."""

    def __init__(self, model: str = "", target_id=None):
        super().__init__(model)
        self.model = model
        text = str(target_id) if isinstance(target_id, (int, str)) else ""
        self.target_id = int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def column_format_message(label):
    """The manual's per-column import error, e.g. 列为“身份证号码”，数据格式不正确！"""
    return _("列为“%(label)s”，数据格式不正确！", label=label)

