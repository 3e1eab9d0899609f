"""No page slides sideways on a phone (issue 13, item 9): every page each role reaches
from its menus and its home page fits a 360 px and a 390 px wide screen — a wide table
scrolls inside its own box, never the page."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PASSWORD, log_in_as_head, page_links

WIDTHS = (360, 390)
# demo heads of one enterprise each that no other test file logs in with (one code a minute)
HEAD_PAGES_PHONE, HEAD_FORM_PHONE = "13900000007", "13900000008"
FITS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def _overflowing(page, paths: list[str]) -> list[str]:
    """Each page at each width whose document is wider than the window."""
    wide = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        for path in paths:
            page.goto(path)
            scroll, window = page.evaluate(FITS)
            if scroll > window:
                wide.append(f"{path} at {width} px: {scroll} px wide")
    return wide


def _phone(browser, live_server):
    return browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 800},
                               is_mobile=True, has_touch=True)


@pytest.mark.parametrize("username", ["admin", "town_nansha", "bureau_port", "taskforce"])
def test_no_page_of_a_government_role_scrolls_sideways_on_a_phone(browser, live_server, username):
    """Logged in on a phone, each page of the role's menus and home page is no wider than the screen."""
    context = _phone(browser, live_server)
    page = context.new_page()
    try:
        assert _overflowing(page, ["/head/login", "/login/"]) == []
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.locator("form[name=login] [type=submit]").click()
        page.wait_for_load_state("load")
        paths = page_links(page)
        assert len(paths) >= 4, paths
        assert _overflowing(page, paths) == []
    finally:
        context.close()


def test_no_page_of_an_enterprise_head_scrolls_sideways_on_a_phone(browser, live_server):
    """After the SMS login, each page the head's home and menus lead to fits the phone's width."""
    context = _phone(browser, live_server)
    page = context.new_page()
    try:
        log_in_as_head(page, live_server.database, HEAD_PAGES_PHONE)
        paths = page_links(page)
        assert "/head/people" in paths, paths
        assert _overflowing(page, paths) == []
    finally:
        context.close()


def test_the_submit_button_is_big_on_a_phone(browser, live_server):
    """The SMS login's 登录 and a form's 确定 span the phone's width and are at least 44 px high."""
    context = _phone(browser, live_server)
    page = context.new_page()
    try:
        page.goto("/head/login")
        box = page.locator("#login-btn").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 300, box
        log_in_as_head(page, live_server.database, HEAD_FORM_PHONE)
        enterprise = next(re.search(r"enterprise_id=(\d+)", p).group(1) for p in page_links(page) if "enterprise_id=" in p)
        page.goto(f"/staff/add?enterprise_id={enterprise}")
        box = page.locator("#btn-save").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 300, box
    finally:
        context.close()
