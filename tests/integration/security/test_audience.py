"""The inverse scope (``app.security.scope.audience``), dimension by dimension: for every
declared dimension, the holders of a value are exactly the principals whose forward scope
holds it — a user of that dimension's role with the value sees the row and is listed; one
with another value, an inactive one, or one of another role is not. A dimension declared
without a case here fails the walk, so a new module's dimension is covered when declared."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.security import roles as R
from app.security import scope as S
from models.enterprises import Enterprise
from models.users import SentinelUser
from tests.integration.factories import in_db, make_enterprise, make_user, phone, tag
from tests.integration.health.stats_factories import make_bureau_type, make_bureau_user, make_town


def _user(session, username):
    return session.execute(select(SentinelUser).where(SentinelUser.username == username)).scalar_one()


def _town_case(app):
    """Two towns, a user in each, an enterprise in the first."""
    _, town = make_town(app)
    _, other = make_town(app)
    enterprise = make_enterprise(app, f"{tag()}企业", town=town)
    return enterprise, make_user(app, "u" + tag()[1:], R.TOWN, town=town), \
        make_user(app, "u" + tag()[1:], R.TOWN, town=other)


def _bureau_case(app):
    """Two bureaus with a type each, a user of each; an enterprise of the first's type."""
    _, type_code, bureau_id = make_bureau_type(app)
    _, _, other_bureau = make_bureau_type(app)
    enterprise = make_enterprise(app, f"{tag()}企业", type_code=type_code)
    return enterprise, make_bureau_user(app, bureau_id), make_bureau_user(app, other_bureau)


def _head_case(app):
    """An enterprise whose head has an account (phone known), and another head's account."""
    head = phone()
    enterprise = make_enterprise(app, f"{tag()}企业", head_phone=head)
    return enterprise, make_user(app, "h" + tag()[1:], R.ENTERPRISE_HEAD, phone_number=head), \
        make_user(app, "h" + tag()[1:], R.ENTERPRISE_HEAD, phone_number=phone())


CASES = {R.DIM_TOWN: _town_case, R.DIM_BUREAU: _bureau_case, R.DIM_HEAD_PHONE: _head_case}


def _driver_phone_case(app):
    """A booking made with a phone; that phone's identity and another phone's."""
    from models.drivers import Booking
    from tests.integration.drivers.helpers import booked

    mine = phone()
    return Booking, booked(app, phone=mine)["id"], mine, phone()


# Dimensions held by phone identities (no accounts): the model, a row, the phone that
# sees it, a phone that does not.
PHONE_CASES = {"driver_phone": _driver_phone_case}


def test_every_declared_dimension_has_a_case(app):
    """A module that declares a dimension adds its case here (the walk below runs it)."""
    assert S.declared_dimensions() == sorted({**CASES, **PHONE_CASES})


@pytest.mark.parametrize("dimension", sorted(PHONE_CASES))
def test_a_phone_identity_sees_the_rows_of_its_phone_and_is_nobodys_audience(app, dimension):
    """The forward scope of a phone proven by SMS code opens its rows only; the inverse lists
    no user or phone on such a dimension (those people are not addressed through it)."""
    from app.security.identities import purposes, purpose
    from app.security.principals import PhonePrincipal

    model, row_id, insider, outsider = PHONE_CASES[dimension](app)
    name = next(p for p in purposes() if purpose(p).dimension == dimension)

    def check(session):
        with app.test_request_context():
            inside = S.scope_for_user(PhonePrincipal(name, insider, dimension))
            outside = S.scope_for_user(PhonePrincipal(name, outsider, dimension))
            row = S.get_or_404(session, model, row_id, inside)
            with pytest.raises(S.OutOfScope):
                S.get_or_404(session, model, row_id, outside)
            assert S.audience(session, model, row, dimensions=[dimension]) == S.Audience()

    in_db(app, check)


@pytest.mark.parametrize("dimension", sorted(CASES))
def test_the_holders_of_a_row_are_the_users_who_see_it(app, dimension):
    enterprise_id, insider, outsider = CASES[dimension](app)

    def check(session):
        row = session.get(Enterprise, enterprise_id)
        listed = S.audience(session, Enterprise, row, dimensions=[dimension])
        inside, outside = _user(session, insider), _user(session, outsider)
        assert inside.id in listed.user_ids
        assert outside.id not in listed.user_ids
        # the forward scope agrees with the inverse, both ways
        assert S.get_or_404(session, Enterprise, enterprise_id, S.scope_for_user(inside)) is row
        with pytest.raises(S.OutOfScope):
            S.get_or_404(session, Enterprise, enterprise_id, S.scope_for_user(outside))
        # an account switched off is nobody's recipient
        inside.active = False
        session.flush()
        assert inside.id not in S.audience(session, Enterprise, row, dimensions=[dimension]).user_ids
        if dimension == R.DIM_HEAD_PHONE:  # a head is reached by phone, account or not
            assert listed.phones == {row.head_phone}
        else:
            assert listed.phones == frozenset()

    in_db(app, check)


def test_a_row_seen_by_every_holder_of_a_dimension_lists_nobody_on_it(app):
    """A bureau sees every town (``ALL``): a town row's audience is its town users only —
    bureaus are addressed by role, not listed as the row's recipients."""
    from models.regions import Town

    town_id, town = make_town(app)
    town_user = make_user(app, "u" + tag()[1:], R.TOWN, town=town)
    _, _, bureau_id = make_bureau_type(app)
    bureau_user = make_bureau_user(app, bureau_id)

    def check(session):
        listed = S.audience(session, Town, session.get(Town, town_id))
        assert listed.user_ids == {_user(session, town_user).id}
        assert S.get_or_404(session, Town, town_id, S.scope_for_user(_user(session, bureau_user)))

    in_db(app, check)
