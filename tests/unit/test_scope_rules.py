"""The pure rules of app/security/scope.py: who gets which scope (roles → declared
dimensions), which clause a policy becomes, and the refusals that need no database."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import false, true
from sqlalchemy.dialects import sqlite

from app.security import policies  # noqa: F401  (registers the modules' dimensions and policies)
from app.security import roles as R
from app.security import scope as S
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.regions import Grid, Town
from models.staff import Staff


def user(*roles, id=7, bureau_id=None, town_id=None, phone=None, authenticated=True):
    return SimpleNamespace(id=id, roles=[SimpleNamespace(name=r) for r in roles], bureau_id=bureau_id,
                           town_id=town_id, phone=phone, is_authenticated=authenticated)


def sql(clause) -> str:
    return str(clause.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("who", [
    None,
    user(R.DISTRICT_ADMIN, authenticated=False),
    user(R.DISTRICT_ADMIN, id=None),
    user(R.CHECKPOINT, R.FEED, town_id=3, bureau_id=2, phone="13800138000"),
])
def test_anonymous_or_unscoped_users_see_nothing(who):
    """Nobody logged in, and roles without registry rights, get an empty scope."""
    scope = S.scope_for_user(who)
    assert scope.is_empty and not scope.everything


@pytest.mark.parametrize("role", [R.DISTRICT_ADMIN, R.TASKFORCE])
def test_admin_and_taskforce_see_everything(role):
    """The district admin and the task force see every row."""
    assert S.scope_for_user(user(role)).everything


def test_bureau_user_is_scoped_to_their_bureau_only():
    """A bureau user's scope is their bureau; the town on their account is ignored."""
    scope = S.scope_for_user(user(R.BUREAU, bureau_id=2, town_id=3))
    assert scope.of(R.DIM_BUREAU) == {2} and not scope.of(R.DIM_TOWN) and not scope.everything


def test_town_user_is_scoped_to_their_town_only():
    """A town user's scope is their town; a bureau on their account is ignored."""
    scope = S.scope_for_user(user(R.TOWN, bureau_id=2, town_id=3))
    assert scope.of(R.DIM_TOWN) == {3} and not scope.of(R.DIM_BUREAU)


def test_role_without_its_link_gives_nothing():
    """A bureau or town account not linked to a bureau/town sees no row at all."""
    assert S.scope_for_user(user(R.BUREAU)).is_empty
    assert S.scope_for_user(user(R.TOWN)).is_empty
    assert S.scope_for_user(user(R.ENTERPRISE_HEAD)).is_empty


def test_enterprise_head_is_scoped_to_their_phone():
    """An enterprise head sees the enterprises whose head phone is theirs."""
    scope = S.scope_for_user(user(R.ENTERPRISE_HEAD, phone="13800138000", id=11))
    assert scope.of(R.DIM_HEAD_PHONE) == {"13800138000"} and scope.user_id == 11


def test_several_roles_add_up():
    """A user holding a town role and a head role sees both."""
    scope = S.scope_for_user(user(R.TOWN, R.ENTERPRISE_HEAD, town_id=3, phone="13800138000"))
    assert scope.of(R.DIM_TOWN) == {3} and scope.of(R.DIM_HEAD_PHONE) == {"13800138000"}
    text = sql(S.clause(Enterprise, scope))
    assert "town_id IN (3)" in text and "head_phone IN ('13800138000')" in text and " OR " in text


@pytest.mark.parametrize("model", [Enterprise, Staff, Town, Grid, EnterpriseType])
def test_clauses_of_everything_and_nothing(model):
    """Everything is an always-true filter, an empty scope an always-false one, on every model."""
    assert S.clause(model, S.Scope(everything=True)).compare(true())
    assert S.clause(model, S.NOTHING).compare(false())


def test_bureau_clause_filters_by_supervised_types():
    """A bureau's enterprises are those whose type its bureau supervises, in any town."""
    scope = S.Scope.of_values(bureau={2})
    text = sql(S.clause(Enterprise, scope))
    assert "enterprise.type_id IN (SELECT enterprise_type.id" in text and "bureau_id IN (2)" in text
    assert "town_id" not in text
    assert S.clause(Town, scope).compare(true())  # a bureau registers enterprises in any town
    assert "bureau_id IN (2)" in sql(S.clause(EnterpriseType, scope))


def test_staff_clause_follows_the_enterprise_clause():
    """A person is in scope when their enterprise is."""
    text = sql(S.clause(Staff, S.Scope.of_values(town={3})))
    assert text.startswith("staff.enterprise_id IN (SELECT enterprise.id") and "town_id IN (3)" in text


def test_head_may_pick_no_town_or_type():
    """An enterprise head may not register enterprises: no town or type is offered."""
    scope = S.Scope.of_values(head_phone={"13800138000"})
    assert S.clause(Town, scope).compare(false())
    assert S.clause(EnterpriseType, scope).compare(false())


def test_models_without_a_policy_are_refused():
    """A model nobody wrote a scope rule for cannot be queried through the scope module."""
    with pytest.raises(KeyError):
        S.clause(SimpleNamespace, S.Scope(everything=True))


def test_policies_name_only_declared_dimensions():
    """A module cannot scope a model along a dimension nobody declared (a typo fails at import)."""
    with pytest.raises(ValueError, match="undeclared"):
        S.register(SimpleNamespace, tonw=S.ALL)


def test_a_dimension_is_declared_once():
    """Two modules cannot declare different rules under one dimension name."""
    with pytest.raises(ValueError, match="twice"):
        S.define_dimension(S.Dimension(R.DIM_TOWN, lambda u: set(), lambda s, v: S.Audience()))


@pytest.mark.parametrize("scope", [S.NOTHING, S.Scope.of_values(head_phone={"13800138000"})])
def test_enterprise_write_refused_without_town_or_bureau(scope):
    """Registering an enterprise without a town or bureau scope is refused (reported as missing)."""
    with pytest.raises(S.OutOfScope):
        S.check_write(None, Enterprise, {"town_id": 1, "type_id": None}, scope)


def test_town_write_is_checked_against_the_town():
    """A town user writes only into their own town."""
    scope = S.Scope.of_values(town={3})
    assert S.check_write(None, Enterprise, {"town_id": 3, "type_id": None}, scope) is None
    with pytest.raises(S.OutOfScope):
        S.check_write(None, Enterprise, {"town_id": 4, "type_id": None}, scope)


def test_enterprise_write_allowed_everywhere_for_everything():
    """The district admin may register an enterprise in any town and type."""
    assert S.check_write(None, Enterprise, {"town_id": 1, "type_id": 1}, S.Scope(everything=True)) is None


@pytest.mark.parametrize("row_id", [None, "", "abc", "1; DROP TABLE staff"])
def test_get_or_404_rejects_ids_that_are_not_numbers(row_id):
    """A malformed id is simply not found."""
    with pytest.raises(S.OutOfScope):
        S.get_or_404(None, Staff, row_id, S.Scope(everything=True))


class _OneValue:
    """A session whose every query answers ``value`` (what a Shared path looks up)."""

    def __init__(self, value):
        self.value, self.statements = value, []

    def execute(self, stmt):
        self.statements.append(stmt)
        return SimpleNamespace(scalar=lambda: self.value)


@pytest.fixture
def freight_app():
    from flask import Flask

    app = Flask(__name__)
    app.config["FREIGHT_TYPE_CODE"] = "freight"
    with app.app_context():
        yield


def test_shared_path_gives_every_row_the_looked_up_value(freight_app):
    """The checkpoint's 告警设置 belong to the bureau of the freight type (Shared): that
    bureau sees every row, another bureau none; a town sees its own town's row only."""
    from models.drivers import CheckpointRecipients

    text = sql(S.clause(CheckpointRecipients, S.Scope.of_values(bureau={2})))
    assert text.startswith("EXISTS (SELECT enterprise_type.bureau_id") and "code = 'freight'" in text
    assert "bureau_id IN (2)" in text and "checkpoint_recipients" not in text
    assert sql(S.clause(CheckpointRecipients, S.Scope.of_values(town={3}))) == "checkpoint_recipients.town_id IN (3)"
    assert S.clause(CheckpointRecipients, S.Scope.of_values(head_phone={"13800138000"})).compare(false())
    session = _OneValue(2)
    values = {"scope": "town", "town_id": 3}
    assert S.row_values(session, CheckpointRecipients, values) == {"town": 3, "bureau": 2}
    S.check_write(session, CheckpointRecipients, values, S.Scope.of_values(bureau={2}))
    with pytest.raises(S.OutOfScope):
        S.check_write(session, CheckpointRecipients, values, S.Scope.of_values(bureau={5}))
    cache: dict = {}
    for _ in range(3):  # many rows: the shared value is looked up once
        S.row_values(session, CheckpointRecipients, {"scope": "bureau", "town_id": None}, cache)
    assert len(session.statements) == 4


def test_shared_path_without_its_referenced_row_reaches_no_bureau(freight_app):
    """No freight type configured in the database: no bureau sees (or writes) any row."""
    from models.drivers import CheckpointRecipients

    session = _OneValue(None)
    assert S.row_values(session, CheckpointRecipients, {"town_id": None}) == {"town": None, "bureau": None}
    with pytest.raises(S.OutOfScope):
        S.check_write(session, CheckpointRecipients, {"town_id": None}, S.Scope.of_values(bureau={2}))
