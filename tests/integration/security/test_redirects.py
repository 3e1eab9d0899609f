"""No login sends the browser to another site (issue 11, item 1; CVE-2025-32962 class):
the password form, an already signed-in visit of the login page, the heads' SMS login
(form and JSON) and the staff list's ``back`` all go through app/security/redirects.py."""
from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from app.security import roles as R
from tests.conftest import PASSWORD, csrf_from
from tests.integration import factories as F
from tests.integration.security.test_sms_login import ask_code, head_phone, last_code

PROBES = [
    "http://127.0.0.1:1@evil.com/phish",
    "http://127.0.0.1:8093.evil.com/",
    "http://localhost:80@evil.com/",
    "//evil.com/",
    "/\\evil.com/",
    "javascript:alert(1)",
]
HOME = ("/", "http://localhost/")


def _client(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.97.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    return client


def _form_login(client, username, next_url):
    page = client.get("/login/?next=" + quote(next_url, safe=""))
    return client.post("/login/?next=" + quote(next_url, safe=""),
                       data={"username": username, "password": PASSWORD, "csrf_token": csrf_from(page.data)})


@pytest.mark.parametrize("next_url", PROBES)
def test_password_login_goes_home_instead_of_a_foreign_next(app, next_url):
    """Valid credentials with a hostile ?next= answer 302 to the home page (never a 500)."""
    client = _client(app)
    username = F.make_user(app, "redir_" + uuid.uuid4().hex[:8], R.TOWN, town="南沙街")
    response = _form_login(client, username, next_url)
    assert response.status_code == 302 and response.headers["Location"] in HOME
    assert client.get("/enterprises/").status_code == 200  # and the login did happen


@pytest.mark.parametrize("next_url", PROBES)
def test_signed_in_visit_of_the_login_page_goes_home(app, next_url):
    """GET /login/?next=… while signed in redirects home, not to the given site."""
    client = _client(app)
    username = F.make_user(app, "redir_" + uuid.uuid4().hex[:8], R.TOWN, town="南沙街")
    assert _form_login(client, username, "/").status_code == 302
    response = client.get("/login/?next=" + quote(next_url, safe=""))
    assert response.status_code == 302 and response.headers["Location"] in HOME


def test_local_and_same_host_next_are_kept(app):
    """A path of the app, or a URL on the request's own host (what a protected page puts in
    ?next=), is where the login continues."""
    client = _client(app)
    username = F.make_user(app, "redir_" + uuid.uuid4().hex[:8], R.TOWN, town="南沙街")
    assert _form_login(client, username, "/staff/?page=2").headers["Location"] == "/staff/?page=2"
    assert client.get("/login/?next=" + quote("http://localhost/staff/", safe="")).headers["Location"] \
        == "http://localhost/staff/"


@pytest.mark.parametrize("next_url", PROBES[:3])
def test_head_sms_login_goes_home_instead_of_a_foreign_next(app, next_url):
    """The heads' JSON verify answers next="/" and their form answers 302 "/" for a hostile ?next=."""
    phone, _ids = head_phone(app)
    client = _client(app)
    assert ask_code(client, phone).status_code == 200
    token = csrf_from(client.get("/head/login").data)
    verified = client.post("/head/login/verify?next=" + quote(next_url, safe=""), headers={"X-CSRFToken": token},
                           json={"phone": phone, "code": last_code(app, phone)})
    assert verified.status_code == 200 and verified.json["next"] in HOME

    phone, _ids = head_phone(app)
    client = _client(app)
    assert ask_code(client, phone).status_code == 200
    token = csrf_from(client.get("/head/login").data)
    posted = client.post("/head/login?next=" + quote(next_url, safe=""),
                         data={"phone": phone, "code": last_code(app, phone), "csrf_token": token})
    assert posted.status_code == 302 and posted.headers["Location"] in HOME


def test_staff_delete_back_stays_on_the_site(app, auth, client):
    """The staff list's delete returns to its ``back`` only when that is a page of the app."""
    auth.login("admin")
    token = csrf_from(client.get("/staff/").data)
    response = client.post("/staff/delete", data={"ids": [], "back": PROBES[0], "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] in HOME
    response = client.post("/staff/delete", data={"ids": [], "back": "/staff/?page=3", "csrf_token": token})
    assert response.headers["Location"] == "/staff/?page=3"
