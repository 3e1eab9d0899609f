"""Passwords in a real browser.

A town account the district admin creates must set its own password at the first login
(issue 11, item 2; issue 13, item 3), on a PC-sized screen: the admin adds it in 用户管理,
the user is led to 修改密码 whatever page they open, changes the password, logs out and
in with the new one; the old one is refused. The admin's 重置密码 forces a change again.

On a phone, a town user finds 修改密码 in the user menu and is told in Chinese what is
wrong (old password, mismatch, policy) until the change succeeds."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CJK, PASSWORD

PC = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
INITIAL = "Initial#2026a"
MINE = "MyOwn#Password9"
RESET = "ResetBy#Admin77"
FORCED = re.compile(r"/resetmypassword/form$")


@pytest.fixture
def pc(browser, live_server):
    """A fresh browser context per person (``pc()`` → a page with no cookies; ``pc(PHONE)`` a phone's)."""
    contexts = []

    def _open(viewport=PC):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
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


def _user_menu(page):
    """Open the user menu of the navbar (on a phone, the collapsed navbar first)."""
    toggle = page.locator(".navbar-toggle")
    if toggle.is_visible():
        toggle.click()
        # Bootstrap's collapse animates (.collapsing) before it is open (.collapse.in): a
        # click on the user menu during the animation could land on nothing (a slow CI)
        expect(page.locator(".navbar-collapse.collapse.in")).to_be_visible()
    menu = page.locator(".navbar-right li.dropdown").filter(has=page.locator(".dropdown-toggle .fa-user"))
    menu.locator(".dropdown-toggle").click()
    expect(menu).to_have_class(re.compile(r"\bopen\b"))


def _log_out(page):
    _user_menu(page)
    page.locator("form.navbar-logout button").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("form[name=login]")).to_be_visible()


def _change(page, old, new, confirm=None):
    page.fill("#old_password", old)
    page.fill("#password", new)
    page.fill("#conf_password", confirm or new)
    page.locator("#model_form [type=submit]").click()
    page.wait_for_load_state("networkidle")


def _add_town_user(admin, username, screenshot=None):
    """The admin adds a town account with the initial password in 用户管理."""
    admin.goto("/users/add")
    admin.fill("#first_name", "测试镇街用户")
    admin.fill("#username", username)
    expect(admin.locator("tr:has(#town)")).to_be_hidden()  # shown for the roles that need it
    admin.locator("#roles").select_option(label="镇街", force=True)
    expect(admin.locator("tr:has(#town)")).to_be_visible()
    expect(admin.locator("tr:has(#bureau)")).to_be_hidden()
    admin.locator("#town").select_option(label="南沙街", force=True)
    admin.fill("#password", INITIAL)
    admin.fill("#conf_password", INITIAL)
    if screenshot:
        _save(admin, screenshot)
    else:
        admin.locator("#model_form [type=submit]").click()
        admin.wait_for_load_state("networkidle")
    expect(admin).to_have_url(re.compile(r"/users/list/"))
    expect(admin.locator("table.table-bordered")).to_contain_text(username)


def _still_forced(user):
    """Wherever the user goes (a menu link, an address typed in), 修改密码 comes back."""
    user.locator("header .dropdown-toggle").filter(has_text="台账管理").click()
    user.locator("header a[href='/enterprises/']").click()
    user.wait_for_load_state("networkidle")
    expect(user).to_have_url(FORCED)
    for path in ("/", "/enterprises/", "/staff/", "/stats/tests", "/users/userinfo/", "/userinfoeditview/form"):
        user.goto(path)
        expect(user).to_have_url(FORCED)
        expect(user.locator(".alert").first).to_contain_text("请先设置您自己的新密码")


def test_a_town_user_sets_a_new_password_at_first_login(pc, screenshots):
    username = "town_" + uuid.uuid4().hex[:8]

    admin = pc()
    _log_in(admin, "admin", PASSWORD)
    _add_town_user(admin, username, screenshots / "user-add-pc.png")

    user = pc()
    _log_in(user, username, INITIAL)
    expect(user).to_have_url(FORCED)
    expect(user.locator(".alert").first).to_contain_text("请先设置您自己的新密码")
    expect(user.locator("body")).to_contain_text("密码要求：至少10个字符")
    _still_forced(user)  # every page leads back here until the password is changed
    _change(user, "Wrong#Password1", MINE)  # refused: still here, still forced
    expect(user.locator("#model_form")).to_contain_text("原密码不正确")
    _still_forced(user)
    user.goto("/enterprises/")
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


def test_the_admins_reset_forces_a_new_password_again(pc, screenshots):
    """重置密码 on the account's page (用户管理 → 查看): the user's own password stops working,
    the reset one leads to 修改密码 before any page, like the first login."""
    username = "town_" + uuid.uuid4().hex[:8]
    admin = pc()
    _log_in(admin, "admin", PASSWORD)
    _add_town_user(admin, username)
    user = pc()
    _log_in(user, username, INITIAL)
    _change(user, INITIAL, MINE)
    expect(user.locator(".alert").first).to_contain_text("密码已修改")
    _log_out(user)

    admin.goto("/users/list/?_flt_0_username=" + username)
    admin.locator("table.table-bordered tr").filter(has_text=username).locator("a[href*='/users/show/']").click()
    admin.locator("a", has_text="重置密码").click()
    admin.wait_for_load_state("networkidle")
    expect(admin).to_have_url(re.compile(r"/resetpassword/form\?pk=\d+$"))
    admin.fill("#password", RESET)
    admin.fill("#conf_password", RESET + "x")
    admin.locator("#model_form [type=submit]").click()
    expect(admin.locator("#model_form")).to_contain_text("两次输入的新密码不一致")
    admin.fill("#password", RESET)
    admin.fill("#conf_password", RESET)
    _save(admin, screenshots / "password-reset-pc.png")
    expect(admin.locator(".alert").first).to_contain_text("用户下次登录时须修改密码")

    _log_in(user, username, MINE)
    expect(user).to_have_url(re.compile(r"/login/"))
    _log_in(user, username, RESET)
    expect(user).to_have_url(FORCED)
    _still_forced(user)
    _change(user, RESET, MINE + "2")
    expect(user.locator(".alert").first).to_contain_text("密码已修改")
    user.goto("/enterprises/")
    expect(user).to_have_url(re.compile(r"/enterprises/"))


def test_a_town_user_changes_their_password_from_the_user_menu_on_a_phone(pc, screenshots):
    """用户信息 / 修改密码 in the user menu: a wrong old password, two different new ones, a weak
    one are each refused with the reason in Chinese; then the change works, and the next
    login takes the new password only."""
    username = "town_" + uuid.uuid4().hex[:8]
    admin = pc()
    _log_in(admin, "admin", PASSWORD)
    _add_town_user(admin, username)
    user = pc(PHONE)
    _log_in(user, username, INITIAL)
    _change(user, INITIAL, MINE)  # the first login's change
    expect(user.locator(".alert").first).to_contain_text("密码已修改")

    _user_menu(user)
    expect(user.locator(".navbar-right .dropdown-menu:has(#navbar-change-password)")).to_contain_text("用户信息")
    user.locator("#navbar-change-password").click()
    user.wait_for_load_state("networkidle")
    expect(user).to_have_url(FORCED)
    form = user.locator("#model_form")
    for label in ("原密码", "新密码", "确认新密码", "密码要求：至少10个字符、包含大写字母、包含小写字母、包含数字、包含特殊字符"):
        expect(form).to_contain_text(label)
    newer = "Newer#Password8"
    for old, new, confirm, message in (
        ("Wrong#Password1", newer, newer, "原密码不正确"),
        (MINE, newer, newer + "x", "两次输入的新密码不一致"),
        (MINE, "weakpass", "weakpass", "密码强度不足"),
    ):
        _change(user, old, new, confirm)
        expect(user).to_have_url(FORCED)
        expect(form).to_contain_text(message)
    user.screenshot(path=str(screenshots / "password-change-refused-phone.png"), full_page=True)
    _change(user, MINE, newer)
    expect(user.locator(".alert").first).to_contain_text("密码已修改")
    user.screenshot(path=str(screenshots / "password-changed-phone.png"), full_page=True)

    _log_out(user)
    _log_in(user, username, MINE)
    expect(user).to_have_url(re.compile(r"/login/"))
    _log_in(user, username, newer)
    expect(user.locator("form[name=login]")).to_have_count(0)
    user.goto("/enterprises/")
    expect(user).to_have_url(re.compile(r"/enterprises/"))
