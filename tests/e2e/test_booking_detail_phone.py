"""A booking's details on a phone (390×844): the scan screen with 查看详情 open keeps the
decision's messages where the user is and shows the new state; a 300-character address
wraps on the scan screen, /m/bookings/<id> and /booking_records/<id>; the PC detail's
乘车人信息 tab shows its pane."""
from __future__ import annotations

import json
import random
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from app.cli.demo import make_id_number
from tests.e2e.conftest import sign_in

PHONE = {"width": 390, "height": 844}
LONG_ADDRESS = "B" * 300  # unbroken: no space or CJK character to wrap at
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def _book(url: str) -> dict:
    """A booking to 南沙街 with a passenger who gave no phone, through the public API."""
    rng = random.Random()
    arrival = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    body = {"driver_name": "钱长路", "id_number": make_id_number(rng, "440103"), "phone": "13500135888",
            "plate_number": "粤AD12345", "origin": "佛山市", "destination_town": "南沙街",
            "destination_address": LONG_ADDRESS, "expected_arrival": arrival,
            "passengers": [{"name": "李四", "id_number": make_id_number(rng, "110105")}]}
    request = urllib.request.Request(url + "/api/v1/bookings/", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _phone_page(browser, live_server, username: str):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    sign_in(page, username)
    return context, page


def test_the_scan_screens_decision_messages_are_in_view_with_the_detail_open(browser, live_server, screenshots):
    """With 查看详情 open, 确认不予通行 without a reason says so beside the buttons, and the
    decision's 已不予通行 is in view with the detail's 状态 now 不予通行; nothing is wider than the phone."""
    booking = _book(live_server.url)
    context, page = _phone_page(browser, live_server, "checkpoint")
    try:
        page.fill("#code-input", booking["code"])
        page.locator("#code-submit").click()
        expect(page.locator("#plate-number")).to_have_text("粤AD12345")
        page.locator("#show-detail").click()
        expect(page.locator("#booking-detail .booking-destination-address")).to_have_text(LONG_ADDRESS)
        assert page.evaluate(FITS), page.evaluate("document.documentElement.scrollWidth")
        page.locator("#deny-btn").click()
        page.locator("#deny-confirm").click()  # no reason chosen
        warning = page.locator("#decision-message")
        expect(warning).to_have_text("请选择或填写不予通行原因")
        expect(warning).to_be_in_viewport()
        page.locator("#deny-form input[value=健康码黄码]").check()
        page.locator("#deny-confirm").click()
        expect(warning).to_have_text("已不予通行")
        expect(warning).to_be_in_viewport()
        expect(page.locator("#booking-detail .booking-state-label")).to_have_text("不予通行")
        page.screenshot(path=str(screenshots / "checkpoint_denied_detail_390.png"), full_page=True)
    finally:
        context.close()


def test_the_booking_details_wrap_a_long_address_and_the_tabs_switch(browser, live_server, screenshots):
    """/m/bookings/<id> and /booking_records/<id> fit a 390 px phone with a 300-character
    address; on the PC detail, 乘车人信息 shows the passengers and hides 基本信息."""
    booking = _book(live_server.url)
    context, page = _phone_page(browser, live_server, "town_nansha")
    try:
        page.goto(f"/m/bookings/{booking['id']}")
        expect(page.locator(".passenger .name")).to_have_text("李四")
        assert page.evaluate(FITS), page.evaluate("document.documentElement.scrollWidth")
        page.goto(f"/booking_records/{booking['id']}")
        expect(page.locator("#basic")).to_contain_text(LONG_ADDRESS)
        assert page.evaluate(FITS), page.evaluate("document.documentElement.scrollWidth")
        expect(page.locator("#passenger-table")).to_be_hidden()
        page.locator("#tab-passengers").click()
        expect(page.locator("#passenger-table")).to_be_visible()
        expect(page.locator("#passenger-table")).to_contain_text("李四")
        expect(page.locator("#basic")).to_be_hidden()
        expect(page.locator("li", has=page.locator("#tab-passengers"))).to_have_class("active")
        page.locator("#tab-basic").click()
        expect(page.locator("#basic")).to_be_visible()
        page.screenshot(path=str(screenshots / "booking_detail_390.png"), full_page=True)
    finally:
        context.close()
