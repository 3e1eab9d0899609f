"""A sealed column: a personal value encrypted at rest, plain text in Python.

``Sealed("staff.phone", index="phone_key")`` stores each value sealed by the app's
keyring (``app.domain.sealing``: AES-GCM, the column name as associated data, the
key id in the value) and gives Python the plain text back on every read — ORM and
Core alike, so models, services, templates and exports see plain values.

Contracts:

* The keyring is the current app's (``app.extensions[KEYRING]``, installed by
  ``app.platform.data_keys.init_app``). It is fetched once when SQLAlchemy builds a column's
  processors for an engine's dialect (per engine, i.e. per app; cached there), not
  once per value: a 100,000-row import or export pays for the cipher alone.
* Bulk writers that bypass statements (``app.services.imports.store``: COPY and
  executemany) seal through the same bind processor (``bind_processor(dialect)``).
* A sealed value is never compared in SQL: equal plain values have different sealed
  forms. ``==``, ``IN``, ``LIKE`` … on a sealed column raise TypeError; exact lookups
  use the keyed hash column named by ``index`` (``Staff.id_key``, ``Staff.phone_key``),
  which writers must set with the value. ``IS NULL`` is allowed.
* Values are never rendered into SQL text (literal binds raise TypeError).
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from sqlalchemy import String
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

KEYRING = "sentinel.keyring"
_COMPARISONS = frozenset({
    operators.eq, operators.ne, operators.lt, operators.le, operators.gt, operators.ge,
    operators.in_op, operators.not_in_op, operators.like_op, operators.not_like_op, operators.ilike_op,
    operators.not_ilike_op, operators.startswith_op, operators.not_startswith_op, operators.endswith_op,
    operators.not_endswith_op, operators.contains_op, operators.not_contains_op, operators.between_op,
    operators.not_between_op, operators.regexp_match_op, operators.not_regexp_match_op,
    operators.icontains_op, operators.istartswith_op, operators.iendswith_op,
})


def current_keyring():
    """The app's keyring. :raise RuntimeError: outside an app context or before init."""
    try:
        return current_app.extensions[KEYRING]
    except RuntimeError:
        raise RuntimeError("sealed columns are read and written inside an app context (its DATA_KEY)") from None
    except KeyError:
        raise RuntimeError("the app has no data keyring (app.platform.data_keys.init_app)") from None


class _NotComparable(TypeDecorator.Comparator, String.Comparator):
    def operate(self, op, *other: Any, **kwargs: Any):
        if op in _COMPARISONS and not (op in (operators.eq, operators.ne) and other == (None,)):
            raise TypeError(f"{self.expr.type.column} is sealed and cannot be compared in SQL: "
                            f"match its keyed hash column {self.expr.type.index!r} instead")
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op, other: Any, **kwargs: Any):
        return self.operate(op, other, **kwargs)


class Sealed(TypeDecorator):
    """VARCHAR(``length``) holding ``gcm1:<key id>:<base64>``; ``column`` ("table.column")
    is the associated data, ``index`` the name of the column with its keyed hash."""

    impl = String
    cache_ok = True
    comparator_factory = _NotComparable

    def __init__(self, column: str, index: str, length: int = 128):
        super().__init__(length)
        self.column, self.index = column, index
        self.aad = column.encode("utf-8")

    # The processors bind the keyring once per dialect (see the module docstring);
    # TypeDecorator's per-value process_bind_param would look the app up per value.
    def bind_processor(self, dialect):
        seal = current_keyring().sealer(self.aad)
        inner = self.impl_instance.bind_processor(dialect)
        return seal if inner is None else (lambda value: inner(seal(value)))

    def result_processor(self, dialect, coltype):
        open_ = current_keyring().opener(self.aad)
        inner = self.impl_instance.result_processor(dialect, coltype)
        return open_ if inner is None else (lambda value: open_(inner(value)))

    def process_literal_param(self, value, dialect):
        raise TypeError(f"{self.column} is sealed: its values are never rendered into SQL text")
