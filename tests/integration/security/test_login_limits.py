"""Password login limits nobody can use to lock another person out (ASVS 2.2.1, issue 11):
a lock per user name *and* client address, a growing wait per user name across
addresses, and one budget of attempts per address for the login form and the API."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from app.platform import security_events as E
from app.security import roles as R
from models.security_events import SecurityEvent
from models.users import SentinelUser
from tests.conftest import login
from tests.integration import factories as F


def throwaway_user(app) -> str:
    return F.make_user(app, "lim_" + uuid.uuid4().hex[:8], R.TOWN, town="南沙街")


def signed_in(client) -> bool:
    return client.get("/enterprises/").status_code == 200


def flashed(client, response) -> str:
    return client.get(response.headers["Location"]).get_data(as_text=True)


def fail_count(app, username: str) -> int:
    return F.in_db(app, lambda s: s.execute(
        select(SentinelUser.fail_login_count).where(SentinelUser.username == username)).scalar() or 0)


def let_the_wait_pass(app, username: str) -> None:
    """What time does to the name's wait (its Redis key expires)."""
    from app.platform.kv import get_redis
    from app.security.lockout import _wait_key

    with app.app_context():
        get_redis().delete(_wait_key(username))


def wait_ttl(app, username: str) -> int:
    from app.platform.kv import get_redis
    from app.security.lockout import _wait_key

    with app.app_context():
        return get_redis().ttl(_wait_key(username))


# --- a lock per user name and address ---------------------------------------------------

def test_a_locked_out_address_does_not_lock_the_owner_out_of_the_form(app):
    """Five wrong passwords from one address lock that address out for the name (even the right
    password is refused there), while the owner logs in from another address."""
    username = throwaway_user(app)
    attacker, owner = F.client_at(app), F.client_at(app)
    for _ in range(app.config["LOGIN_LOCK_AFTER"]):
        login(attacker, username, "wrong")
    refused = login(attacker, username)
    assert "登录失败次数过多，账号已暂时锁定，请稍后再试" in flashed(attacker, refused)
    assert not signed_in(attacker)
    login(owner, username)
    assert signed_in(owner)


def test_a_locked_out_address_does_not_lock_the_owner_out_of_the_api(app):
    """The same through POST /api/v1/security/login: 401 with the lock message at the guessing
    address, a token for the owner elsewhere."""
    username = throwaway_user(app)
    attacker, owner = F.client_at(app), F.client_at(app)
    for _ in range(app.config["LOGIN_LOCK_AFTER"]):
        assert F.api_login(attacker, username, "wrong").status_code == 401
    refused = F.api_login(attacker, username)
    assert refused.status_code == 401 and refused.json == {"message": "登录失败次数过多，账号已暂时锁定，请稍后再试"}
    answer = F.api_login(owner, username)
    assert answer.status_code == 200 and answer.json["access_token"]


# --- a growing wait per user name -------------------------------------------------------

def _spread_guess(app, username: str) -> None:
    """LOGIN_DELAY_AFTER wrong passwords for ``username``, from as many addresses as the lock needs."""
    per_address = app.config["LOGIN_LOCK_AFTER"]
    left = app.config["LOGIN_DELAY_AFTER"]
    while left:
        guesser = F.client_at(app)
        for _ in range(min(per_address, left)):
            assert F.api_login(guesser, username, "wrong").status_code == 401
            left -= 1


def test_a_guess_spread_over_addresses_makes_the_next_form_attempt_wait(app):
    """After LOGIN_DELAY_AFTER failures from several addresses, a new address is told 请N秒后再试
    without the password being checked (a wrong one is not counted); once the wait has run out,
    the right password works."""
    username = throwaway_user(app)
    _spread_guess(app, username)
    owner = F.client_at(app)
    failures = fail_count(app, username)
    refused = login(owner, username, "wrong-again")
    assert re.search(r"请[12]秒后再试", flashed(owner, refused))
    assert fail_count(app, username) == failures  # the password was not checked
    refused = login(owner, username)
    assert re.search(r"请[12]秒后再试", flashed(owner, refused)) and not signed_in(owner)
    let_the_wait_pass(app, username)
    login(owner, username)
    assert signed_in(owner)


def test_each_further_failure_doubles_the_wait_on_the_api(app):
    """On the API the wait is a 429 with Retry-After; each further failure doubles it (2 s, then 4 s)."""
    username = throwaway_user(app)
    _spread_guess(app, username)
    client = F.client_at(app)
    refused = F.api_login(client, username)
    assert refused.status_code == 429 and re.fullmatch(r"请[12]秒后再试", refused.json["message"])
    assert refused.headers["Retry-After"] in ("1", "2")
    let_the_wait_pass(app, username)
    assert F.api_login(client, username, "wrong").status_code == 401
    assert 2 < wait_ttl(app, username) <= 4
    since = F.in_db(app, lambda s: s.execute(select(SecurityEvent.id).order_by(SecurityEvent.id.desc())
                                             .limit(1)).scalar())
    assert F.api_login(client, username).status_code == 429
    kinds = F.in_db(app, lambda s: list(s.execute(select(SecurityEvent.kind)
                                                  .where(SecurityEvent.id > since)).scalars()))
    assert kinds == [E.LOGIN_DELAYED]


# --- one budget per address -------------------------------------------------------------

@pytest.fixture(scope="module")
def small_budget_app(app, app_overrides):
    """An app instance allowing 3 login attempts an hour per address (limiter keys of its own)."""
    from app import create_app

    return create_app(dict(app_overrides, AUTH_RATE_LIMIT="3 per hour",
                           RATELIMIT_KEY_PREFIX=app_overrides["REDIS_PREFIX"] + "budget-" + uuid.uuid4().hex[:6]))


def test_form_and_api_logins_share_one_budget_per_address(small_budget_app):
    """Two tries on the form and one on the API use up the address's 3; the next on either path is
    429 in Chinese, and the refusal is a security event."""
    app = small_budget_app
    ip = F.address()
    client = F.client_at(app, ip)
    for _ in range(2):
        assert login(client, "nobody_" + uuid.uuid4().hex[:6], "wrong").status_code == 302
    assert F.api_login(client, "nobody_" + uuid.uuid4().hex[:6], "wrong").status_code == 401
    form = login(client, "nobody_" + uuid.uuid4().hex[:6], "wrong")
    assert form.status_code == 429 and "操作过于频繁，请稍后再试" in form.get_data(as_text=True)
    api = F.api_login(client, "nobody_" + uuid.uuid4().hex[:6], "wrong")
    assert api.status_code == 429 and api.json == {"message": "操作过于频繁，请稍后再试"}
    assert F.client_at(app).post("/api/v1/security/login", json={}).status_code == 400  # other addresses: their own
    kinds = F.in_db(app, lambda s: list(s.execute(select(SecurityEvent.kind).where(SecurityEvent.ip == ip)
                                                  .order_by(SecurityEvent.id)).scalars()))
    assert kinds[-2:] == [E.LOGIN_THROTTLED, E.LOGIN_THROTTLED]
