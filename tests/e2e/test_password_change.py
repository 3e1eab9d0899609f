"""A town account the district admin creates must set its own password at the first login
(issue 11, item 2), on a PC-sized screen: the admin adds it in 用户管理, the user is led to
修改密码, changes the password, logs out and in with the new one; the old one is refused."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CJK, PASSWORD

PC = {"width": 1366, "height": 768}
INITIAL = "Initial#2026a"
MINE = "MyOwn#Password9"


@pytest.fixture
def pc(browser, live_server):
    """A fresh PC-sized browser context per person (``pc()`` → a page with no cookies)."""
    contexts = []

    def _open():
        context = browser.new_context(base_url=live_server.url, viewport=PC)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def _log_in(page, username, password):
    page.goto("/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.locator("form[name=login] [type=submit]").click()
    page.wait_for_load_state("networkidle")


def _save(page, screenshot):
    """Photograph the filled-in form, then press its 保存."""
    page.screenshot(path=str(screenshot), full_page=True)
    page.locator("#model_form [type=submit]").click()
    page.wait_for_load_state("networkidle")


def _log_out(page):
    page.locator(".navbar-right .dropdown-toggle").filter(has=page.locator(".fa-user")).click()
    page.locator("form.navbar-logout button").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("form[name=login]")).to_be_visible()


def test_a_town_user_sets_a_new_password_at_first_login(pc, screenshots):
    username = "town_" + uuid.uuid4().hex[:8]

    admin = pc()
    _log_in(admin, "admin", PASSWORD)
    admin.goto("/users/add")
    admin.fill("#first_name", "测试镇街用户")
    admin.fill("#username", username)
    admin.locator("#roles").select_option(label="镇街", force=True)
    admin.locator("#town").select_option(label="南沙街", force=True)
    admin.fill("#password", INITIAL)
    admin.fill("#conf_password", INITIAL)
    _save(admin, screenshots / "user-add-pc.png")
    expect(admin).to_have_url(re.compile(r"/users/list/"))
    expect(admin.locator("table.table-bordered")).to_contain_text(username)

    user = pc()
    _log_in(user, username, INITIAL)
    expect(user).to_have_url(re.compile(r"/resetmypassword/form$"))
    expect(user.locator(".alert").first).to_contain_text("请先设置您自己的新密码")
    expect(user.locator("body")).to_contain_text("密码要求：至少10个字符")
    user.goto("/enterprises/")  # every page leads back here until the password is changed
    expect(user).to_have_url(re.compile(r"/resetmypassword/form$"))
    user.fill("#old_password", INITIAL)
    user.fill("#password", MINE)
    user.fill("#conf_password", MINE)
    _save(user, screenshots / "password-change-pc.png")
    expect(user).to_have_url(re.compile(r"/dashboard/"))  # a town user's home (views/home.py)
    expect(user.locator(".alert").first).to_contain_text("密码已修改")

    _log_out(user)
    _log_in(user, username, MINE)
    expect(user).to_have_url(re.compile(r"/dashboard/"))
    _log_out(user)
    _log_in(user, username, INITIAL)
    expect(user).to_have_url(re.compile(r"/login/"))
    alert = user.locator(".alert").first
    expect(alert).to_be_visible()
    assert CJK.search(alert.inner_text()), alert.inner_text()
    user.screenshot(path=str(screenshots / "password-old-refused-pc.png"), full_page=True)
