"""The scope of testing rules and their results (SPEC §4).

* an alert setting belongs to its enterprise type: a bureau sees and edits the settings
  of the types it supervises (the district admin all of them);
* a day's compliance result is scoped exactly like the person it is about (town, bureau,
  enterprise head), so the 未按规定检测 list, its export and the alert files follow the
  registry's scope.

A user named as a recipient must be within the editor's reach (:func:`may_address`).
"""
from __future__ import annotations

from typing import Any

from app.security.scope import Parent, Scope, Via, register, scope_for_user
from models.enterprise_types import EnterpriseType
from models.rules import AlertSetting, ComplianceResult
from models.staff import Staff

register(AlertSetting, bureau=Via(AlertSetting.type_id, EnterpriseType.id, EnterpriseType.bureau_id))
register(ComplianceResult, parent=Parent(ComplianceResult.staff_id, Staff))


def may_address(editor: Scope, user: Any) -> bool:
    """Whether an editor with scope ``editor`` may name ``user`` as a recipient: anyone
    for the district admin; else the editor themself or a user who shares one of the
    editor's own scope values (a bureau user: the users of the same bureau)."""
    if user is None or not getattr(user, "active", False):
        return False
    if editor.everything or user.id == editor.user_id:
        return True
    theirs = scope_for_user(user)
    return any(theirs.of(name) & held for name, held in editor.values.items())
