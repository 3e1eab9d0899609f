"""The kinds of import and what each importer is handed: the pipeline builds the
importer of a kind here, with the scope decisions (app/security) and the health
package's follow-up it needs, so the importers themselves decide neither."""
from __future__ import annotations

from sqlalchemy import select

from app.domain.errors import OutOfScope, ServiceError
from app.domain.i18n import _
from app.security import scope as S
from app.services import lookups
from app.services.health import follow_up
from app.services.imports.base import Importer
from app.services.imports.importers import EnterpriseAccess, EnterpriseImporter, StaffImporter
from models.enterprises import Enterprise
from models.staff import Staff

KINDS = ("staff", "enterprise")
# a visible enterprise whose people the user may not write (a town's freight enterprise)
MSG_STAFF_READ_ONLY = _("您只能查看该企业的人员，不能导入")


def importer(session, scope: S.Scope, kind: str, *, enterprise_id=None, enterprise_type=None) -> Importer:
    """The importer of ``kind`` for a user of ``scope``.

    :raise OutOfScope: staff: the enterprise is not in the scope (404).
    :raise ServiceError: staff: the enterprise's people are not the user's to write
        (400, nothing read or written); enterprises: an unknown ``enterprise_type`` (400).
    """
    if kind == "staff":
        enterprise = S.get_or_404(session, Enterprise, enterprise_id, scope)
        if not S.may_write(session, Staff, {"enterprise_id": enterprise.id}, scope):
            raise ServiceError(MSG_STAFF_READ_ONLY)
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
