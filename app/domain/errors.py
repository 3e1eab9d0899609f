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
