"""Resolving names users type (town, grid, type code) into rows, within scope."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select

from app.domain.enterprise_types import TypeDecl, parse_declaration
from app.domain.errors import RuleError
from app.domain.i18n import _
from app.security import scope as S
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.regions import Grid, Town


def towns_in_scope(session, scope: S.Scope) -> list[Town]:
    stmt = select(Town).where(S.clause(Town, scope)).order_by(Town.sort_order, Town.id)
    return list(session.execute(stmt).scalars())


def types_in_scope(session, scope: S.Scope) -> list[EnterpriseType]:
    stmt = (
        select(EnterpriseType)
        .where(EnterpriseType.active.is_(True), S.clause(EnterpriseType, scope))
        .order_by(EnterpriseType.id)
    )
    return list(session.execute(stmt).scalars())


def writable_types(session, scope: S.Scope) -> list[EnterpriseType]:
    """The types in scope whose enterprises the user may add, import or edit in some town
    of theirs (a town user sees the freight type's but writes none: app/security/policies)."""
    towns = towns_in_scope(session, scope)
    return [t for t in types_in_scope(session, scope)
            if any(S.may_write(session, Enterprise, {"type_id": t.id, "town_id": town.id}, scope) for town in towns)]


def find_town(session, name: Optional[str]) -> Town:
    town = session.execute(select(Town).where(Town.name == (name or "").strip())).scalar_one_or_none()
    if town is None:
        raise RuleError("town", _("所属镇街不正确：%(name)s", name=name or ""))
    return town


def find_grid(session, town: Town, name: Optional[str]) -> Optional[Grid]:
    name = (name or "").strip()
    if not name:
        return None
    grid = session.execute(select(Grid).where(Grid.town_id == town.id, Grid.name == name)).scalar_one_or_none()
    if grid is None:
        raise RuleError("grid", _("所属网格不正确：%(name)s", name=name))
    return grid


def find_type(session, code: Optional[str]) -> EnterpriseType:
    code = (code or "").strip()
    etype = session.execute(
        select(EnterpriseType).where((EnterpriseType.code == code) | (EnterpriseType.name == code))
    ).scalar_one_or_none()
    if etype is None:
        raise RuleError("type_code", _("主体类型不正确：%(code)s", code=code))
    return etype


def type_inactive_error(name) -> RuleError:
    return RuleError("type_code", _("主体类型“%(name)s”已停用，不能新增该类型的企业", name=name))


def find_type_for(session, code: Optional[str], current_type_id: Optional[int] = None) -> EnterpriseType:
    """``find_type`` for an enterprise being created (``current_type_id`` None) or
    edited: a deactivated type is refused unless it is the enterprise's own type
    already (its enterprises keep working). :raise RuleError: unknown or deactivated."""
    etype = find_type(session, code)
    if not etype.active and etype.id != current_type_id:
        raise type_inactive_error(etype.name)
    return etype


def declaration(etype: EnterpriseType) -> TypeDecl:
    return parse_declaration(etype.spec)
