"""What differs between a staff import and an enterprise import: the spec, how one row
is cleaned (the same domain cleaners as the forms and the API), the upsert key, and the
existing rows that key finds.

Staff: key ``id_key`` (the keyed hash of the ID number; the number itself is stored
sealed) within the chosen enterprise (one person per ID number per enterprise); the
enterprise is scope-checked once, before the file is read.
Enterprises: key ``(name, town)`` — a name is unique within its town; each row is
scope-checked (its town and type must be writable by the user) and a row whose key
finds an existing enterprise outside the user's scope fails instead of touching it.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from sqlalchemy import func, select

from app.domain.enterprise_types import TypeDecl, parse_declaration
from app.domain.errors import OutOfScope, RuleError, ServiceError, column_format_message
from app.domain.i18n import _
from app.domain.records import LABELS, clean_enterprise, clean_staff
from app.platform.queue import enqueue
from app.security import scope as S
from app.services import lookups
from app.services.health import keys as health_keys
from app.services.health import summary
from app.services.imports.staff_rows import FastStaffRows
from app.services.sheet_specs import EXTRA_PREFIX, enterprise_spec, extra_key, split_extras, staff_spec
from app.sheets import cell_text
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.regions import Grid, Town
from models.staff import Staff

RAW_KEYS = {"id_number", "phone", "head_phone", "credit_code"}  # cleaners need the raw cell
CHUNK = 1000
INLINE_MATCH = 2000  # new people matched to health records in the import's transaction
log = logging.getLogger(__name__)
MSG_OUT_OF_SCOPE = _("所属镇街或主体类型不在您的管辖范围内，无法导入")
MSG_EXISTS_ELSEWHERE = _("同名企业已存在于该镇街，且不在您的管辖范围内，无法导入")


class RowFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class BaseImporter:
    kind = ""
    entity = ""
    table = None
    spec = None
    fields: tuple[str, ...] = ()  # columns written on insert
    always: tuple[str, ...] = ()  # columns always rewritten on update
    kept: tuple[str, ...] = ()  # columns an update never rewrites (the key it was found by)

    def __init__(self, session, scope: S.Scope):
        self.session, self.scope = session, scope
        self._field_set = frozenset(self.fields)
        self._plan = None  # (present, columns rewritten on update, extra keys present)

    # -- cells and messages ---------------------------------------------------------
    def _raw(self, values: dict, decl: TypeDecl, extra_fields) -> dict:
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

    def refuse(self, key, found) -> str | None:
        """Why the valid row of ``key`` must still fail (``found``: the stored row's
        ``existing`` entry, None for a new one); None to write it."""
        return None

    # -- writes ---------------------------------------------------------------------
    def before_write(self, inserts: list[dict], updates: list[dict]) -> None:
        """Complete rows about to be written (columns no cleaner sets)."""

    def after_write(self, session) -> None:
        """Follow-up in the import's transaction once every row is written."""

    def after_commit(self) -> Optional[str]:
        """Follow-up once the import is committed; the id of a job it queued, if any."""
        return None

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


class StaffImporter(BaseImporter):
    kind, entity, table = "staff", "Staff", Staff.__table__
    fields = ("enterprise_id", "name", "id_type", "id_number", "phone", "category", "worker_kind",
              "residence_type", "address", "extras", "id_key")
    always = ("name", "id_type", "phone")
    kept = ("id_number", "id_key")  # found by its key: same number

    def __init__(self, session, scope, *, enterprise_id=None, **_ignored):
        super().__init__(session, scope)
        self.enterprise = S.get_or_404(session, Enterprise, enterprise_id, scope)  # OutOfScope → 404
        self.entity_id = self.enterprise.id
        self.decl = lookups.declaration(self.enterprise.type)
        self.spec = staff_spec(self.decl)
        self.fast = FastStaffRows(self.decl)
        self.last_id = 0
        self.inserted = 0
        self._key, self._previous_key = health_keys.keyers()
        self._stored: dict = {}

    def clean(self, values: dict):
        """``(id_key, row)``: the row's key is the keyed hash of its ID number — under the
        previous secret when a stored person not re-keyed yet carries that one."""
        clean = self.fast(values)  # the usual valid row; None: the full cleaner decides
        if clean is None:
            clean, errors = clean_staff(self._raw(values, self.decl, self.decl.staff_fields), self.decl)
            if errors:
                raise self.fail(errors)
        clean["enterprise_id"] = self.enterprise.id
        number = clean["id_number"]  # normalised by the cleaner, as the key wants it
        key = self._key(number)
        if self._previous_key is not None and key not in self._stored:
            older = self._previous_key(number)
            key = older if older in self._stored else key
        clean["id_key"] = key
        return key, clean

    def before_write(self, inserts: list[dict], updates: list[dict]) -> None:
        """The keys of the rows (no mapper event sets them): a new row's previous-secret
        ID key and phone key (its ``id_key`` comes from ``clean``); an update's phone key.
        An update keeps its ID number and ID keys (the key it was found by)."""
        health_keys.row_keys(inserts)
        health_keys.row_keys(updates)
        self.inserted += len(inserts)

    def after_write(self, session) -> None:
        """Summaries of the new people's keys that had none yet (an update keeps its
        key: same enterprise, same ID number), in the import's transaction — unless
        there are many new people: matching them scans the record tables (seconds at
        100,000 people with records), so a job does it right after the commit."""
        if 0 < self.inserted <= INLINE_MATCH:
            summary.refresh_new_staff(session, self.enterprise.id, self.last_id)

    def after_commit(self) -> Optional[str]:
        if self.inserted <= INLINE_MATCH:
            return None

        try:
            return enqueue("jobs.health.match_new_staff", self.enterprise.id, self.last_id,
                           job_kind="health.match_new_staff", user_id=self.scope.user_id)
        except Exception:  # the people are stored; the weekly rebuild matches them anyway
            log.exception("could not queue the health matching of %d imported people", self.inserted)
            return None

    def stored(self, with_extras: bool) -> dict:
        """id_key → (id, extras) of every person of the enterprise: known before the
        file is read, so new rows can be written while the rest is still being read (no
        number is unsealed: keys are compared). Notes the highest staff id too: every
        row this import adds gets a higher one."""
        self.last_id = self.session.execute(select(func.max(Staff.id))).scalar() or 0
        cols = [Staff.id, Staff.id_key] + ([Staff.extras] if with_extras else [])
        rows = self.session.execute(
            select(*cols).where(Staff.enterprise_id == self.enterprise.id, Staff.id_key.is_not(None)))
        self._stored = {row.id_key: (row.id, row.extras if with_extras else None) for row in rows}
        return self._stored

    def existing(self, keys: list, with_extras: bool):
        """key → (id, extras) of the enterprise's stored people among ``keys`` (the few
        repeated ones: a whole import's are read by ``stored``); none is ever refused."""
        cols = [Staff.id, Staff.id_key] + ([Staff.extras] if with_extras else [])
        found = {}
        for chunk in _chunks(keys):
            stmt = select(*cols).where(Staff.enterprise_id == self.enterprise.id, Staff.id_key.in_(chunk))
            for row in self.session.execute(stmt):
                found[row.id_key] = (row.id, row.extras if with_extras else None)
        return found, set()


class EnterpriseImporter(BaseImporter):
    kind, entity, table = "enterprise", "Enterprise", Enterprise.__table__
    fields = ("name", "type_id", "town_id", "grid_id", "address", "head_name", "head_phone",
              "credit_code", "extras")
    always = ("name", "type_id", "town_id", "address", "head_name", "head_phone")
    _PRESENT_AS = {"grid": "grid_id", "type_code": "type_id"}

    def __init__(self, session, scope, *, enterprise_type=None, **_ignored):
        super().__init__(session, scope)
        self.entity_id = None
        self.types: dict[str, EnterpriseType] = {}
        for etype in session.execute(select(EnterpriseType)).scalars():
            self.types[etype.code] = self.types[etype.name] = etype
        self.towns = {t.name: t for t in session.execute(select(Town)).scalars()}
        self.grids = {(g.town_id, g.name): g for g in session.execute(select(Grid)).scalars()}
        self.default_type = None
        if enterprise_type not in (None, ""):
            self.default_type = self.types.get(str(enterprise_type).strip())
            if self.default_type is None:
                raise ServiceError(_("主体类型不正确：%(code)s", code=enterprise_type))
        self._decls: dict[int, TypeDecl] = {}
        self._allowed: dict[tuple, bool] = {}
        self._type_of: dict[tuple, int] = {}  # key → type_id of the row (refuse())
        self._stored_type: dict[tuple, int] = {}  # key → type_id of the stored enterprise
        self._by_id = {t.id: t for t in self.types.values()}
        towns = tuple(t.name for t in lookups.towns_in_scope(session, scope))
        decl = self._decl(self.default_type) if self.default_type else TypeDecl()
        self.spec = enterprise_spec(decl, self.default_type.name if self.default_type else None, towns)

    def _decl(self, etype) -> TypeDecl:
        if etype.id not in self._decls:
            self._decls[etype.id] = parse_declaration(etype.spec)
        return self._decls[etype.id]

    def _may_write(self, town_id, type_id) -> bool:
        key = (town_id, type_id)
        if key not in self._allowed:
            try:
                S.check_write(self.session, Enterprise, {"town_id": town_id, "type_id": type_id}, self.scope)
                self._allowed[key] = True
            except OutOfScope:
                self._allowed[key] = False
        return self._allowed[key]

    def clean(self, values: dict):
        errors: list[RuleError] = []
        type_text = cell_text(values.get("type_code"))
        etype = self.types.get(type_text) if type_text else self.default_type
        if etype is None:
            errors.append(RuleError("type_code", _("主体类型不正确：%(code)s", code=type_text)))
        decl = self._decl(etype) if etype else TypeDecl()
        town_text, grid_text = cell_text(values.get("town")), cell_text(values.get("grid"))
        town = self.towns.get(town_text)
        if town is None:
            errors.append(RuleError("town", _("所属镇街不正确：%(name)s", name=town_text)))
        grid = self.grids.get((town.id, grid_text)) if town and grid_text else None
        if town and grid_text and grid is None:
            errors.append(RuleError("grid", _("所属网格不正确：%(name)s", name=grid_text)))
        clean, value_errors = clean_enterprise(self._raw(values, decl, decl.enterprise_fields), decl)
        errors.extend(value_errors)
        if errors:
            raise self.fail(errors)
        if not self._may_write(town.id, etype.id):
            raise RowFailed(str(MSG_OUT_OF_SCOPE))
        clean.update(type_id=etype.id, town_id=town.id, grid_id=grid.id if grid else None)
        key = (clean["name"], town.id)
        self._type_of[key] = etype.id
        return key, clean

    def existing(self, keys: list, with_extras: bool):
        """(name, town_id) → (id, extras) of stored enterprises, and the keys that find
        an enterprise outside the user's scope (those rows fail)."""
        found, hidden = {}, set()
        names = sorted({name for name, _town in keys})
        wanted = set(keys)
        for chunk in _chunks(names):
            stmt = select(Enterprise.id, Enterprise.name, Enterprise.town_id, Enterprise.extras,
                          Enterprise.type_id).where(Enterprise.name.in_(chunk))
            rows = [r for r in self.session.execute(stmt) if (r.name, r.town_id) in wanted]
            ids = [r.id for r in rows]
            visible = set(self.session.execute(
                S.apply(select(Enterprise.id).where(Enterprise.id.in_(ids)), Enterprise, self.scope)
            ).scalars()) if ids else set()
            for r in rows:
                if r.id in visible:
                    found[(r.name, r.town_id)] = (r.id, r.extras)
                    self._stored_type[(r.name, r.town_id)] = r.type_id
                else:
                    hidden.add((r.name, r.town_id))
        return found, hidden

    def refuse(self, key, found):
        """A deactivated type takes no new enterprises: only rows already of it pass."""
        type_id = self._type_of.get(key)
        etype = self._by_id.get(type_id)
        if etype is None or etype.active or self._stored_type.get(key) == type_id:
            return None
        return str(lookups.type_inactive_error(etype.name).message)

    def present_fields(self, present: frozenset) -> frozenset:
        return frozenset(self._PRESENT_AS.get(k, k) for k in present)


IMPORTERS = {"staff": StaffImporter, "enterprise": EnterpriseImporter}
