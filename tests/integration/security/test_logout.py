"""Logging out is a POST with a CSRF token: a GET (a link, an <img> on another site)
ends nothing, it only asks."""
from __future__ import annotations

import re

from tests.conftest import csrf_from, login, logout


def signed_in(client) -> bool:
    return client.get("/enterprises/").status_code == 200


def test_get_logout_only_asks_and_keeps_the_session(client):
    """GET /logout/ shows a confirmation with a logout button; the user is still signed in afterwards."""
    login(client, "town_nansha")
    page = client.get("/logout/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "确定退出登录吗？" in text
    assert re.search(r'<form method="post" action="/logout/" id="logout-form">', text)
    assert signed_in(client)


def test_logout_post_without_csrf_token_is_refused(client):
    """A cross-site POST to /logout/ (no CSRF token) is refused with a Chinese message and logs nobody out."""
    login(client, "town_nansha")
    refused = client.post("/logout/")
    assert refused.status_code == 400 and "页面已过期或请求来源无效" in refused.get_data(as_text=True)
    assert signed_in(client)


def test_logout_post_with_token_ends_the_session(client):
    """The confirmation's form logs out and leads to the login page; the old cookie is dead."""
    login(client, "town_nansha")
    old = client.get_cookie("session").value
    done = logout(client)
    assert done.status_code == 302
    assert not signed_in(client)
    client.set_cookie("session", old)
    assert not signed_in(client)


def test_navbar_logs_out_with_a_form_not_a_link(client):
    """Every page's navbar offers logout as a POST form carrying the CSRF token, and no GET link to it."""
    login(client, "town_nansha")
    page = client.get("/enterprises/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/logout/" class="navbar-logout".*?</form>', page, re.S)
    assert form and 'name="csrf_token"' in form.group(0)
    assert 'href="/logout/"' not in page
    response = client.post("/logout/", data={"csrf_token": csrf_from(form.group(0))})
    assert response.status_code == 302 and not signed_in(client)


def test_get_logout_when_signed_out_goes_to_login(client):
    """A visitor who is not signed in and opens /logout/ lands on the login page."""
    response = client.get("/logout/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
