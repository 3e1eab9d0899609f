"""Declarative description of a spreadsheet: its columns and how headers match them.

A ``SheetSpec`` is built from an enterprise type's declaration (registry) or from a
fixed list (export tables). Labels are user-facing (lazy Chinese msgids or plain str
from declarative data); ``aliases`` are other header texts users write for the column.
"""

from dataclasses import dataclass
from functools import cached_property

from app.sheets.cells import normalize_header

KINDS = ("text", "number", "date", "choice")


@dataclass(frozen=True)
class Column:
    """One column. ``as_text``: ID/phone-like, written as text (number format '@')."""

    key: str
    label: object  # str or lazy string
    required: bool = False
    kind: str = "text"  # text|number|date|choice
    choices: tuple = ()
    as_text: bool = False
    example: str = ""
    aliases: tuple = ()
    width: float | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key!r}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"column {self.key!r}: a choice column needs choices")
        object.__setattr__(self, "choices", tuple(str(c) for c in self.choices))
        object.__setattr__(self, "aliases", tuple(self.aliases))

    def header_variants(self):
        """Every text that names this column: label (rendered and msgid) and aliases."""
        texts = [str(self.label)]
        msgid = getattr(self.label, "_args", None)  # flask_babel LazyString
        if msgid and isinstance(msgid[0], str):
            texts.append(msgid[0])
        texts.extend(str(a) for a in self.aliases)
        return texts


@dataclass(frozen=True)
class SheetSpec:
    """An ordered set of columns with unique keys, plus the sheet's title."""

    columns: tuple
    sheet_title: str = "Sheet1"

    def __post_init__(self):
        object.__setattr__(self, "columns", tuple(self.columns))
        keys = [c.key for c in self.columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate column keys in {keys}")

    @property
    def keys(self):
        return tuple(c.key for c in self.columns)

    @property
    def required(self):
        return tuple(c for c in self.columns if c.required)

    def column(self, key):
        """The column with this key; KeyError if none."""
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def match(self, text):
        """Key of the column a header cell names, or None.

        Exact match after normalisation wins (so labels that differ only in a
        bracketed part stay apart); then a match with bracketed notes removed.
        """
        if text is None:
            return None
        strict, loose = self._index
        key = strict.get(normalize_header(text, drop_notes=False))
        if key is None:
            norm = normalize_header(text)
            key = loose.get(norm) if norm else None
        return key

    @cached_property
    def _index(self):
        strict, loose = {}, {}
        for c in self.columns:
            for text in c.header_variants():
                strict.setdefault(normalize_header(text, drop_notes=False), c.key)
                norm = normalize_header(text)
                if norm:
                    loose.setdefault(norm, c.key)
        strict.pop("", None)
        return strict, loose
