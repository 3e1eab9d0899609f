"""An enterprise head logs in on a phone-sized screen with an SMS code (SPEC §8, manual 2.1)."""
from __future__ import annotations

import re
import sqlite3

from playwright.sync_api import expect

HEAD_PHONE = "13800138000"  # app/cli/demo.py: heads two demo enterprises


def _latest_code(database) -> str:
    with sqlite3.connect(database) as conn:
        row = conn.execute("SELECT body FROM message WHERE recipient = ? AND kind = 'sms' ORDER BY id DESC LIMIT 1",
                           (HEAD_PHONE,)).fetchone()
    assert row, "no SMS stored for the head"
    return re.search(r"\d{6}", row[0]).group(0)


def test_head_logs_in_on_a_phone_and_reaches_staff(browser, live_server, screenshots):
    """On a phone: 获取验证码 answers 验证码已发送 and counts down; the code logs in; the head picks an enterprise and opens 员工管理."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto("/login/")
        page.locator("#head-login-link").click()
        expect(page).to_have_url(re.compile(r"/head/login$"))
        page.fill("#phone", HEAD_PHONE)
        page.locator("#get-code").click()
        expect(page.locator("#code-status")).to_have_text("验证码已发送")
        expect(page.locator("#get-code")).to_be_disabled()
        expect(page.locator("#get-code")).to_contain_text("秒后重新获取")
        page.screenshot(path=str(screenshots / "head-login-phone.png"), full_page=True)

        page.fill("#code", _latest_code(live_server.database))
        page.locator("#login-btn").click()
        expect(page).to_have_url(re.compile(r"/head/select$"))
        expect(page.locator(".enterprise-name")).to_have_count(3)  # two demo enterprises and the demo freight company
        page.locator(".head-choice button").first.click()
        expect(page).to_have_url(re.compile(r"/head/$"))
        expect(page.locator("#enterprise-total")).to_have_text(re.compile(r"企业总人数：\d+ 人"))
        page.screenshot(path=str(screenshots / "head-home-phone.png"), full_page=True)
        page.locator("#staff-link").click()  # the phone's 员工管理, not the PC table
        expect(page).to_have_url(re.compile(r"/head/staff$"))
        expect(page.locator("#staff-total")).to_contain_text("工作人员：")
    finally:
        context.close()
