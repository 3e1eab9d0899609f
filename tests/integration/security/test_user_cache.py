"""The signed-in user is rebuilt from memory only while their rows are unchanged
(app/security/user_cache.py): a role taken away, an account deactivated or a role added
through a group is seen by the very next request made with the same token."""
from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from tests.integration import factories as F

SCAN = "/api/v1/checkpoint/scan"


def _scan(client, headers) -> int:
    """Status of a scan of a code that is none: 400 for a checkpoint user, else refused."""
    return client.post(SCAN, json={"code": "not-a-code"}, headers=headers).status_code


def _user_id(session, username: str) -> int:
    from models.users import SentinelUser

    return session.execute(select(SentinelUser.id).where(SentinelUser.username == username)).scalar_one()


def _change(app, fn) -> None:
    def run(session):
        fn(session)
        session.commit()

    F.in_db(app, run)


def _token(client, username: str) -> dict:
    return {"Authorization": f"Bearer {F.api_login(client, username).json['access_token']}"}


def test_a_role_taken_away_is_refused_at_the_next_request(app):
    from flask_appbuilder.security.sqla.models import assoc_user_role

    username = F.make_user(app, "cp" + F.tag(), "checkpoint")
    client = F.client_at(app)
    headers = _token(client, username)
    assert [_scan(client, headers) for _ in range(3)] == [400, 400, 400]  # built once, then kept
    # only the association row changes: the user's own row is as it was
    _change(app, lambda s: s.execute(delete(assoc_user_role).where(
        assoc_user_role.c.user_id == _user_id(s, username))))
    assert _scan(client, headers) == 403


def test_a_deactivated_account_is_refused_at_the_next_request(app):
    from models.users import SentinelUser

    username = F.make_user(app, "cp" + F.tag(), "checkpoint")
    client = F.client_at(app)
    headers = _token(client, username)
    assert _scan(client, headers) == 400
    _change(app, lambda s: s.execute(update(SentinelUser).where(SentinelUser.username == username)
                                     .values(active=False)))
    assert _scan(client, headers) == 401


def test_a_role_given_through_a_group_counts_at_the_next_request(app):
    from flask_appbuilder.security.sqla.models import Group, assoc_group_role, assoc_user_group

    username = F.make_user(app, "tw" + F.tag(), "town", town="南沙街")
    client = F.client_at(app)
    headers = _token(client, username)
    assert _scan(client, headers) == 403
    group_name = "g" + F.tag()

    def join_group(session):
        group = Group(name=group_name, label=group_name)
        session.add(group)
        session.flush()
        role_id = app.appbuilder.sm.find_role("checkpoint").id
        session.execute(insert(assoc_group_role).values(group_id=group.id, role_id=role_id))
        session.execute(insert(assoc_user_group).values(group_id=group.id, user_id=_user_id(session, username)))

    _change(app, join_group)
    assert _scan(client, headers) == 400


def test_a_transaction_that_changed_the_user_sees_its_change_and_keeps_nothing_of_it(app):
    """A user row changed in the request's own transaction (not yet committed) is read as
    changed there; once rolled back, the next request reads the row as it is."""
    from app.platform.extensions import db
    from models.users import SentinelUser

    username = F.make_user(app, "cp" + F.tag(), "checkpoint")
    with app.app_context():
        sm = app.appbuilder.sm
        user_id = _user_id(db.session, username)
        assert sm.get_user_by_id(user_id).first_name == username  # kept
        db.session.remove()
        db.session.execute(update(SentinelUser).where(SentinelUser.id == user_id).values(first_name="改名中"))
        assert sm.get_user_by_id(user_id).first_name == "改名中"
        db.session.rollback()
        db.session.remove()
        assert sm.get_user_by_id(user_id).first_name == username
        db.session.remove()


def test_a_token_accepted_before_is_refused_once_it_has_expired(app):
    """Tokens are verified once per process (app/security/verified_tokens.py); the expiry
    is checked on every use, and an altered token is checked in full."""
    import time
    from datetime import timedelta

    from flask_jwt_extended import create_access_token

    username = F.make_user(app, "cp" + F.tag(), "checkpoint")
    with app.app_context():
        token = F.in_db(app, lambda s: create_access_token(identity=str(_user_id(s, username)), fresh=True,
                                                           expires_delta=timedelta(seconds=2)))
    client = F.client_at(app)
    headers = {"Authorization": f"Bearer {token}"}
    assert [_scan(client, headers) for _ in range(2)] == [400, 400]
    head, claims, signature = token.split(".")
    altered = f"{head}.{claims}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
    assert _scan(client, {"Authorization": f"Bearer {altered}"}) == 401
    time.sleep(2.2)
    answer = client.post(SCAN, json={"code": "not-a-code"}, headers=headers)
    assert answer.status_code == 401 and answer.json["message"] == "登录已过期，请重新登录"


def test_a_removed_account_is_refused_at_the_next_request_not_a_500(app):
    """The token outlives the account: the next request finds no rows and is a 401."""
    from flask_appbuilder.security.sqla.models import assoc_user_group, assoc_user_role

    from models.users import SentinelUser

    username = F.make_user(app, "cp" + F.tag(), "checkpoint")
    client = F.client_at(app)
    headers = _token(client, username)
    assert _scan(client, headers) == 400

    def remove(session):
        user_id = _user_id(session, username)
        for link in (assoc_user_role, assoc_user_group):
            session.execute(delete(link).where(link.c.user_id == user_id))
        session.execute(delete(SentinelUser).where(SentinelUser.id == user_id))

    _change(app, remove)
    assert _scan(client, headers) == 401
