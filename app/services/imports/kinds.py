"""The kinds of import and what each importer is handed: the pipeline builds the
importer of a kind here, with the scope decisions (app/security) and the health
package's follow-up it needs, so the importers themselves decide neither."""
from __future__ import annotations

from sqlalchemy import select

from app.domain.errors import OutOfScope
from app.security import scope as S
from app.services import lookups
from app.services.health import follow_up
from app.services.imports.base import Importer
from app.services.imports.importers import EnterpriseAccess, EnterpriseImporter, StaffImporter
from models.enterprises import Enterprise

KINDS = ("staff", "enterprise")


def importer(session, scope: S.Scope, kind: str, *, enterprise_id=None, enterprise_type=None) -> Importer:
    """The importer of ``kind`` for a user of ``scope``.

    :raise OutOfScope: staff: the enterprise is not in the scope (404).
    :raise ServiceError: enterprises: an unknown ``enterprise_type`` (400).
    """
    if kind == "staff":
        enterprise = S.get_or_404(session, Enterprise, enterprise_id, scope)
        return StaffImporter(session, enterprise, lookups.declaration(enterprise.type),
                             follow_up.staff_import(session, enterprise.id, scope.user_id))
    if kind == "enterprise":
        return EnterpriseImporter(session, _enterprise_access(session, scope), enterprise_type)
    raise ValueError(f"unknown import kind {kind!r}")


def _enterprise_access(session, scope: S.Scope) -> EnterpriseAccess:
    def may_write(town_id: int, type_id: int) -> bool:
        try:
            S.check_write(session, Enterprise, {"town_id": town_id, "type_id": type_id}, scope)
        except OutOfScope:
            return False
        return True

    def visible(ids: list[int]) -> set:
        stmt = S.apply(select(Enterprise.id).where(Enterprise.id.in_(ids)), Enterprise, scope)
        return set(session.execute(stmt).scalars())

    towns = tuple(t.name for t in lookups.towns_in_scope(session, scope))
    return EnterpriseAccess(towns, may_write, visible)
