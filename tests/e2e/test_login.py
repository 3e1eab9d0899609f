"""Government users log in through the real login page in a real browser."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CJK

APP_NAME = "哨点人员健康监测平台"
DASHBOARD = ("/dashboard/", "首页")

# the name each demo account shows in the navbar once logged in (app/cli/demo.py)
NAMES = {
    "admin": "区管理员", "bureau_port": "口岸办", "bureau_transport": "住建局/交通局",
    "town_nansha": "南沙街", "town_huangge": "黄阁镇", "taskforce": "专班", "checkpoint": "卡口",
    "feed": "数据接口", "unit_admin": "单位管理员", "institution_admin": "机构管理员",
}

# demo account → (path of its home, a heading that home shows)
HOMES = {
    "admin": DASHBOARD,
    "bureau_port": DASHBOARD,
    "bureau_transport": DASHBOARD,
    "town_nansha": DASHBOARD,
    "town_huangge": DASHBOARD,
    "taskforce": ("/stats/tests", "核酸检测统计"),
    "checkpoint": ("/checkpoint/", "扫码核验"),
    "feed": ("/welcome", APP_NAME),
    "unit_admin": ("/welcome", APP_NAME),
    "institution_admin": ("/welcome", APP_NAME),
}


@pytest.mark.parametrize("username", sorted(HOMES))
def test_each_role_logs_in_and_lands_on_its_home(page, login, screenshots, username):
    """Every demo account logs in with Sentinel#2026 and sees its own home page."""
    path, text = HOMES[username]
    login(username)
    expect(page).to_have_url(re.compile(re.escape(path) + r"(\?.*)?$"))
    expect(page.locator("form[name=login]")).to_have_count(0)
    expect(page.locator("h1, h2, h3, .panel-title, .page-header").filter(has_text=text).first).to_be_visible()
    # the navbar names the account and offers logging out: the session is really open
    expect(page.locator(".navbar-right")).to_contain_text(NAMES[username])
    expect(page.locator('form.navbar-logout[method=post][action="/logout/"]')).to_be_attached()
    page.screenshot(path=str(screenshots / f"home-{username}.png"), full_page=True)


def test_login_page_is_chinese_by_default(page):
    """A fresh browser sees the login page in Chinese (title, labels and button)."""
    page.goto("/login/")
    expect(page).to_have_title(APP_NAME)
    expect(page.locator("label[for=username]")).to_have_text(re.compile("用户名"))
    expect(page.locator("label[for=password]")).to_have_text(re.compile("密码"))
    expect(page.locator("form[name=login] [type=submit]")).to_have_value(re.compile(CJK.pattern))


def test_wrong_password_shows_a_chinese_message(page, login, screenshots):
    """A wrong password keeps the user on the login page with a message in Chinese."""
    login("town_huangge", "Wrong#Password1")
    expect(page).to_have_url(re.compile(r"/login/?"))
    alert = page.locator(".alert").first
    expect(alert).to_be_visible()
    assert CJK.search(alert.inner_text()), alert.inner_text()
    assert "Invalid" not in alert.inner_text()
    page.screenshot(path=str(screenshots / "login-wrong-password.png"), full_page=True)


def test_logged_out_visitor_is_sent_to_login(page):
    """Opening the enterprise list without logging in shows the login form instead."""
    page.goto("/enterprises/")
    expect(page.locator("form[name=login]")).to_be_visible()


def test_logout_from_the_navbar_ends_the_session(page, login):
    """The navbar's logout button (a POST form) signs the user out; the registry then asks for a login again."""
    login("town_nansha")
    page.locator(".navbar-right .dropdown-toggle").filter(has_text=NAMES["town_nansha"]).click()
    page.locator("form.navbar-logout button").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("form[name=login]")).to_be_visible()
    page.goto("/enterprises/")
    expect(page.locator("form[name=login]")).to_be_visible()


def test_opening_the_logout_address_only_asks(page, login):
    """Opening /logout/ (a link, a bookmark) changes nothing until the user presses the button."""
    login("town_nansha")
    page.goto("/logout/")
    expect(page.locator("#logout-question")).to_be_visible()
    page.goto("/enterprises/")
    expect(page.locator("form[name=login]")).to_have_count(0)
    page.goto("/logout/")
    page.locator("#logout-confirm").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("form[name=login]")).to_be_visible()
