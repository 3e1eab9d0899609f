"""The district admin reads the security events in a real browser (系统管理 → 安全事件)."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def test_admin_finds_a_failed_login_under_system_management(page, login, screenshots):
    """A wrong password for `checkpoint` shows up for the admin under 系统管理 → 安全事件 as 登录失败,
    in district time to the minute, and the kind filter keeps it."""
    login("checkpoint", "Wrong#Password1")
    page.context.clear_cookies()
    login("admin")
    page.locator(".navbar-nav .dropdown-toggle").filter(has_text="系统管理").click()
    page.locator(".navbar-nav .dropdown-menu a").filter(has_text="安全事件").click()
    expect(page).to_have_url(re.compile(r"/security-events/$"))
    page.locator("#event-filters select[name=kind]").select_option(label="登录失败")
    page.locator("#event-filters input[name=user]").fill("checkpoint")
    page.locator("#event-filters button[type=submit]").click()
    row = page.locator("#event-table tbody tr").first
    expect(row.locator(".event-kind")).to_have_text("登录失败")
    expect(row).to_contain_text("checkpoint")
    expect(row.locator(".event-time")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"))
    page.screenshot(path=str(screenshots / "security-events.png"), full_page=True)
