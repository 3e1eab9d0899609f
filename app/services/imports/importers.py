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

from typing import Callable, Optional

from sqlalchemy import select

from app.domain.enterprise_types import TypeDecl, parse_declaration
from app.domain.errors import RuleError, ServiceError
from app.domain.i18n import _
from app.domain.records import clean_enterprise, clean_staff
from app.services import lookups
from app.services.imports.base import Importer, RowFailed, chunks
from app.services.imports.staff_rows import FastStaffRows
from app.services.sheet_specs import enterprise_spec, staff_spec
from app.sheets import cell_text
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.regions import Grid, Town
from models.staff import Staff

MSG_OUT_OF_SCOPE = _("所属镇街或主体类型不在您的管辖范围内，无法导入")
MSG_EXISTS_ELSEWHERE = _("同名企业已存在于该镇街，且不在您的管辖范围内，无法导入")


class EnterpriseAccess:
    """What the user's scope allows an enterprise import (decided by app/security,
    handed in by the pipeline): ``towns`` to list in the template's choices,
    ``may_write(town_id, type_id)``, ``visible(ids)`` (the stored ones in scope)."""

    def __init__(self, towns: tuple[str, ...], may_write: Callable[[int, int], bool],
                 visible: Callable[[list[int]], set]):
        self.towns, self.may_write, self.visible = towns, may_write, visible


class StaffImporter(Importer):
    kind, entity, table = "staff", "Staff", Staff.__table__
    fields = ("enterprise_id", "name", "id_type", "id_number", "phone", "category", "worker_kind",
              "residence_type", "address", "extras", "id_key")
    always = ("name", "id_type", "phone")
    kept = ("id_number", "id_key")  # found by its key: same number

    def __init__(self, session, enterprise: Enterprise, decl: TypeDecl, health):
        """``enterprise``: in the user's scope (the pipeline checked); ``health``: the
        health package's follow-up of a staff import (``health.follow_up.staff_import``)."""
        super().__init__()
        self.session, self.enterprise, self.decl, self.health = session, enterprise, decl, health
        self.entity_id = enterprise.id
        self.spec = staff_spec(decl)
        self.fast = FastStaffRows(decl)
        self._key, self._previous_key = health.key, health.previous_key
        self._stored: dict = {}

    def clean(self, values: dict):
        """``(id_key, row)``: the row's key is the keyed hash of its ID number — under the
        previous secret when a stored person not re-keyed yet carries that one."""
        clean = self.fast(values)  # the usual valid row; None: the full cleaner decides
        if clean is None:
            clean, errors = clean_staff(self.raw(values, self.decl.staff_fields), self.decl)
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
        """The keys of the rows (no mapper event sets them; the health follow-up knows
        which): an update keeps its ID number and ID keys (the key it was found by)."""
        self.health.key_rows(inserts, updates)

    def after_write(self, queued: Callable[[Optional[str]], None]) -> None:
        """The new people's health summaries (an update keeps its key: same
        enterprise, same ID number): the health package's one follow-up."""
        self.health.after_write(queued)

    def stored(self, with_extras: bool) -> dict:
        """id_key → (id, extras) of every person of the enterprise: known before the
        file is read, so new rows can be written while the rest is still being read (no
        number is unsealed: keys are compared)."""
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
        for chunk in chunks(keys):
            stmt = select(*cols).where(Staff.enterprise_id == self.enterprise.id, Staff.id_key.in_(chunk))
            for row in self.session.execute(stmt):
                found[row.id_key] = (row.id, row.extras if with_extras else None)
        return found, set()


class EnterpriseImporter(Importer):
    kind, entity, table = "enterprise", "Enterprise", Enterprise.__table__
    fields = ("name", "type_id", "town_id", "grid_id", "address", "head_name", "head_phone",
              "credit_code", "extras")
    always = ("name", "type_id", "town_id", "address", "head_name", "head_phone")
    _PRESENT_AS = {"grid": "grid_id", "type_code": "type_id"}

    def __init__(self, session, access: EnterpriseAccess, enterprise_type=None):
        """``enterprise_type`` (code or name): the type of rows naming none.
        :raise ServiceError: an unknown type."""
        super().__init__()
        self.session, self.access = session, access
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
        decl = self._decl(self.default_type) if self.default_type else TypeDecl()
        self.spec = enterprise_spec(decl, self.default_type.name if self.default_type else None, access.towns)

    def _decl(self, etype) -> TypeDecl:
        if etype.id not in self._decls:
            self._decls[etype.id] = parse_declaration(etype.spec)
        return self._decls[etype.id]

    def _may_write(self, town_id, type_id) -> bool:
        key = (town_id, type_id)
        if key not in self._allowed:
            self._allowed[key] = self.access.may_write(town_id, type_id)
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
        clean, value_errors = clean_enterprise(self.raw(values, decl.enterprise_fields), decl)
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
        for chunk in chunks(names):
            stmt = select(Enterprise.id, Enterprise.name, Enterprise.town_id, Enterprise.extras,
                          Enterprise.type_id).where(Enterprise.name.in_(chunk))
            rows = [r for r in self.session.execute(stmt) if (r.name, r.town_id) in wanted]
            ids = [r.id for r in rows]
            visible = self.access.visible(ids) if ids else set()
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

