"""The import template a user downloads (下载模板), per enterprise type."""
from __future__ import annotations

from app.domain.errors import RuleError, ServiceError
from app.domain.i18n import _
from app.security import scope as S
from app.services import lookups
from app.services.sheet_specs import enterprise_template, staff_template
from models.enterprises import Enterprise

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _type(session, scope, enterprise_type, enterprise_id):
    if enterprise_type:
        try:
            return lookups.find_type(session, enterprise_type)
        except RuleError as err:
            raise ServiceError(err.message) from None
    if enterprise_id:
        return S.get_or_404(session, Enterprise, enterprise_id, scope).type
    raise ServiceError(_("请选择主体类型"))


def template_for(session, scope, kind: str, *, enterprise_type=None, enterprise_id=None) -> tuple[bytes, str]:
    """(xlsx bytes, download name) of the ``kind`` template for a type given by code or
    name, or by an enterprise in scope (staff). Templates hold no personal data.

    :raise ServiceError: no or unknown type (400). :raise OutOfScope: enterprise (404).
    """
    etype = _type(session, scope, enterprise_type, enterprise_id)
    decl = lookups.declaration(etype)
    if kind == "staff":
        return staff_template(decl), f"{etype.name}-{_('人员导入模板')}.xlsx"
    towns = tuple(t.name for t in lookups.towns_in_scope(session, scope))
    return enterprise_template(decl, etype.name, towns), f"{etype.name}-{_('企业导入模板')}.xlsx"
