"""The pure rules of app/security/ownership.py: who may read a background job and a
stored failure workbook."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.security import ownership
from app.security import roles as R


def user(*roles, id=7):
    return SimpleNamespace(id=id, roles=[SimpleNamespace(name=r) for r in roles])


def test_a_job_is_read_by_its_owner_and_the_district_admin_only():
    """The user who started a job and the district admin see it; another user, even a task force one, does not."""
    assert ownership.may_read_job(user(R.TOWN, id=7), 7)
    assert ownership.may_read_job(user(R.DISTRICT_ADMIN, id=1), 7)
    assert not ownership.may_read_job(user(R.TOWN, id=8), 7)
    assert not ownership.may_read_job(user(R.TASKFORCE, id=8), 7)
    assert not ownership.may_read_job(user(R.TOWN, id=8), None)


@pytest.mark.parametrize("who", [None, SimpleNamespace(id=None, roles=[])])
def test_nobody_logged_in_reads_no_job(who):
    """Without a logged-in user no job is readable, not even one without an owner."""
    assert not ownership.may_read_job(who, None)


def test_a_failure_workbook_is_read_by_whoever_ran_the_import_for_that_kind():
    """Only the user who ran the import reads its failure workbook, and only through the import's own kind."""
    owner = {"user_id": 7, "kind": "staff"}
    assert ownership.may_read_import_file(owner, 7)
    assert ownership.may_read_import_file(owner, 7, "staff")
    assert not ownership.may_read_import_file(owner, 7, "enterprise")
    assert not ownership.may_read_import_file(owner, 8, "staff")
    assert not ownership.may_read_import_file(owner, None)
    assert not ownership.may_read_import_file({"kind": "staff"}, None, "staff")
