"""The registry's scope: towns, bureaus and enterprise heads (SPEC §1).

* a town user sees the enterprises located in their town, and their staff;
* a bureau user sees the enterprises of the types their bureau supervises, in every town;
* an enterprise head sees the enterprises whose head phone is theirs.

Towns a principal may pick (and see in statistics): their own town; every town for a
bureau. Enterprise types: every type for a town user, the supervised ones for a bureau.
"""
from __future__ import annotations

from app.security import roles as R
from app.security.policies.users import attribute, users_with
from app.security.scope import ALL, Audience, Column, Dimension, Parent, Via, define_dimension, register
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.regions import Grid, Town
from models.staff import Staff
from models.users import SentinelUser

TOWN = define_dimension(Dimension(R.DIM_TOWN, attribute("town_id"), users_with(R.TOWN, SentinelUser.town_id)))
BUREAU = define_dimension(Dimension(R.DIM_BUREAU, attribute("bureau_id"), users_with(R.BUREAU, SentinelUser.bureau_id)))


def _head_holders(session, phones: frozenset) -> Audience:
    """An enterprise head is reached by phone, account or not (heads sign in by SMS)."""
    return Audience(phones=phones) | users_with(R.ENTERPRISE_HEAD, SentinelUser.phone)(session, phones)


HEAD_PHONE = define_dimension(Dimension(R.DIM_HEAD_PHONE, attribute("phone"), _head_holders))

register(
    Enterprise,
    town=Column(Enterprise.town_id),
    bureau=Via(Enterprise.type_id, EnterpriseType.id, EnterpriseType.bureau_id),
    head_phone=Column(Enterprise.head_phone),
)
register(Staff, parent=Parent(Staff.enterprise_id, Enterprise))
register(Town, town=Column(Town.id), bureau=ALL)
register(Grid, town=Column(Grid.town_id), bureau=ALL)
register(EnterpriseType, town=ALL, bureau=Column(EnterpriseType.bureau_id))
