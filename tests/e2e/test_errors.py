"""Error pages a person can run into are real pages, in Chinese, inside the layout."""
from __future__ import annotations

import sqlite3

from playwright.sync_api import expect


def test_unknown_page_shows_a_chinese_not_found_page(page, login, screenshots):
    """A mistyped address shows 404 with a Chinese message and a way back home, not a bare server error."""
    login("town_nansha")
    response = page.goto("/no-such-page")
    assert response.status == 404
    expect(page.locator("#error-message")).to_have_text("数据不存在或无权访问")
    expect(page.locator(".navbar-brand")).to_contain_text("哨点人员健康监测平台")
    page.screenshot(path=str(screenshots / "error-404.png"), full_page=True)
    page.get_by_role("link", name="返回首页").click()
    expect(page.locator("#dashboard-title")).to_contain_text("首页")  # a town user's home (views/home.py)


def test_other_towns_enterprise_is_not_found_for_a_town_user(page, login, live_server):
    """A town user who opens an enterprise of another town by its address sees 404, not the data."""
    with sqlite3.connect(live_server.database) as conn:
        outsider_id, outsider_name = conn.execute(
            "SELECT e.id, e.name FROM enterprise e JOIN town t ON t.id = e.town_id "
            "WHERE t.name <> '黄阁镇' ORDER BY e.id LIMIT 1"
        ).fetchone()
    login("town_huangge")
    response = page.goto(f"/enterprises/{outsider_id}")
    assert response.status == 404
    expect(page.locator("#error-message")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(outsider_name)
