"""Full ID numbers and phones in exports are a permission of their own (issue 11):
granted where the manuals' work needs them, not to statistics-only roles."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.security import roles as R
from app.security import scope as S
from app.security.personal_data import detail_numbers, sees_full_ids_when_unmatched, sees_full_numbers


def user(*roles):
    return SimpleNamespace(id=7, roles=[SimpleNamespace(name=r) for r in roles], bureau_id=1, town_id=2,
                           phone="13800138000", is_authenticated=True)


@pytest.mark.parametrize("role, full", [
    (R.DISTRICT_ADMIN, True), (R.TOWN, True), (R.BUREAU, True), (R.ENTERPRISE_HEAD, True),
    (R.TASKFORCE, False), (R.CHECKPOINT, False), (R.FEED, False), (R.UNIT_ADMIN, False),
    (R.INSTITUTION_ADMIN, False), (R.PUBLIC, False),
])
def test_who_reads_full_numbers_in_exports(role, full):
    """The admin, towns, bureaus and heads export full numbers; the task force and other roles masked ones."""
    assert sees_full_numbers([role]) is full
    assert S.scope_for_user(user(role)).full_numbers is full


def test_the_permission_is_in_the_roles_table():
    """PersonalData read is a row of the roles-as-data table, so FAB's roles carry it too."""
    roles = R.fab_roles()
    grant = ["^PersonalData$", "^can_read$"]
    assert all(grant in roles[r] for r in (R.TOWN, R.BUREAU, R.ENTERPRISE_HEAD))
    assert grant not in roles[R.TASKFORCE]


def test_a_task_force_member_who_is_also_a_town_user_reads_full_numbers():
    """Roles add up: one granting role is enough."""
    assert sees_full_numbers([R.TASKFORCE, R.TOWN])
    assert not S.scope_for_user(None).full_numbers


@pytest.mark.parametrize("roles, full", [
    ([R.ENTERPRISE_HEAD], True), ([R.TOWN], True), ([R.BUREAU], True),
    ([R.DISTRICT_ADMIN], False), ([R.TASKFORCE], False), ([R.CHECKPOINT], False), ([R.TASKFORCE, R.TOWN], True),
])
def test_the_unmatched_list_shows_full_ids_to_the_registering_roles(roles, full):
    """未匹配 (first self-check: 核查证件号码是否正确): the head, town and bureau who registered the people read full IDs."""
    assert sees_full_ids_when_unmatched(roles) is full


def test_a_detail_shows_full_numbers_only_to_the_roles_that_may():
    """One rule for every detail page: full for the roles that may, masked for anyone else, empty stays empty."""
    assert detail_numbers(True, "44011519900723765X", "13576266263") == ("44011519900723765X", "13576266263")
    assert detail_numbers(False, "44011519900723765X", "13576266263") == ("440115********765X", "135****6263")
    assert detail_numbers(False, "44011519900723765X", None) == ("440115********765X", "")
