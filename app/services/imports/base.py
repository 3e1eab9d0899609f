"""The importer interface: what the pipeline (``app.services.imports``) asks of a kind
of import. Every hook is declared here with its default; a kind overrides what differs.

The pipeline calls, in order: ``stored`` (known before reading?), ``present_fields``,
``clean`` per row, ``existing`` (when ``stored`` knew nothing), ``refuse`` per new key,
``insert_row`` / ``update_row``, ``before_write`` per batch, then — not on a dry run —
``after_write`` once every row is written, in the import's transaction.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Optional

from app.domain.errors import RuleError, column_format_message
from app.domain.records import LABELS
from app.services.sheet_specs import EXTRA_PREFIX, extra_key, split_extras
from app.sheets import SheetSpec, cell_text

RAW_KEYS = {"id_number", "phone", "head_phone", "credit_code"}  # cleaners need the raw cell
CHUNK = 1000


class RowFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Importer(ABC):
    """One kind of import: its spec, how a row is cleaned and keyed, which stored rows
    its keys find, and the columns it writes."""

    kind = ""
    entity = ""  # the audit row's entity
    entity_id: Optional[int] = None  # … and its id (the enterprise of a staff import)
    table = None  # the table written (Core)
    spec: SheetSpec
    fields: tuple[str, ...] = ()  # columns written on insert
    always: tuple[str, ...] = ()  # columns always rewritten on update
    kept: tuple[str, ...] = ()  # columns an update never rewrites (the key it was found by)

    def __init__(self):
        self._field_set = frozenset(self.fields)
        self._plan = None  # (present, columns rewritten on update, extra keys present)

    # -- reading --------------------------------------------------------------------
    @abstractmethod
    def clean(self, values: dict) -> tuple[Any, dict]:
        """``(key, row)`` of a row's raw cells. :raise RowFailed: with its message."""

    @abstractmethod
    def existing(self, keys: list, with_extras: bool) -> tuple[dict, set]:
        """``(key → (id, extras) of the stored rows among keys, keys of stored rows
        outside the user's scope)``: those rows fail instead of touching them."""

    def stored(self, with_extras: bool) -> Optional[dict]:
        """Every stored row the import may update (key → (id, extras)), when it is known
        before the file is read: new rows are then written while the rest is read. None
        (the default): the keys decide, so ``existing`` is asked once all rows are read."""
        return None

    def present_fields(self, present: frozenset) -> frozenset:
        """The row keys an update rewrites, from the spec keys present in the file."""
        return present

    def refuse(self, key, found) -> Optional[str]:
        """Why the valid row of ``key`` must still fail (``found``: the stored row's
        ``existing`` entry, None for a new one); None to write it."""
        return None

    # -- writing --------------------------------------------------------------------
    def before_write(self, inserts: list[dict], updates: list[dict]) -> None:
        """Complete rows about to be written (columns no cleaner sets)."""

    def after_write(self, queued: Callable[[Optional[str]], None]) -> None:
        """Follow-up in the import's transaction once every row is written; a job it
        queues after the commit is handed to ``queued`` (its id)."""

    def insert_row(self, values: dict) -> dict:
        if values.keys() == self._field_set:  # the cleaner's dict is the row: no copy
            return values
        return {k: values.get(k) for k in self.fields}

    def update_row(self, values: dict, row_id: int, old_extras: Any, present: frozenset) -> dict:
        if self._plan is None or self._plan[0] is not present:  # once per import, not per row
            keys = [k for k in self.fields if (k in self.always or k in present) and k not in self.kept]
            self._plan = (present, keys, [k[len(EXTRA_PREFIX):] for k in present if k.startswith(EXTRA_PREFIX)])
        _present, keys, extra_present = self._plan
        out = {key: values.get(key) for key in keys}
        out["row_id"] = row_id
        if extra_present:
            merged = dict(old_extras or {})
            for key in extra_present:
                merged.pop(key, None)
            merged.update(values.get("extras") or {})
            out["extras"] = merged
        return out

    # -- cells and messages ---------------------------------------------------------
    @staticmethod
    def raw(values: dict, extra_fields) -> dict:
        """The cells as the full cleaners take them: text, except the raw ID numbers,
        phones, credit codes and number/date extras."""
        kinds = {extra_key(f.key): f.kind for f in extra_fields}
        out = {}
        for key, value in values.items():
            keep = key in RAW_KEYS or kinds.get(key) in ("number", "date")
            out[key] = value if keep else cell_text(value)
        return split_extras(out)

    def _label(self, field: str) -> str:
        for key in (field, extra_key(field)):
            try:
                return str(self.spec.column(key).label)
            except KeyError:
                continue
        return str(LABELS.get(field, field))

    def fail(self, errors: list[RuleError]) -> RowFailed:
        parts = [f"{column_format_message(self._label(e.field))}（{e.message}）" for e in errors]
        return RowFailed("；".join(parts))

