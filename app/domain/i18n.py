"""Translation hook for the domain layer.

Domain rules wrap every user-facing message in ``_()``.  ``lazy_gettext`` defers the
lookup until the string is rendered, so rules can be unit-tested without a Flask app:
outside an app context a lazy string renders its (Chinese) msgid.
"""

from flask_babel import lazy_gettext

_ = lazy_gettext

__all__ = ["_"]
