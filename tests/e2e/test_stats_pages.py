"""The statistics pages in a real browser: tables, 统计时间, and charts drawn by the
ECharts the app serves itself (no CDN)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("path, heading", [("/stats/tests", "核酸检测统计"), ("/stats/vaccines", "疫苗接种统计")])
def test_statistics_page_draws_its_chart(page, login, screenshots, path, heading):
    """The task force opens a statistics page from the 统计分析 menu and sees the table, its total row and a chart."""
    login("taskforce")
    page.locator(".navbar").get_by_text("统计分析").click()
    page.locator(".navbar").get_by_role("link", name=heading).click()
    expect(page).to_have_url(re.compile(re.escape(path) + r"(\?.*)?$"))
    expect(page.locator("h3").filter(has_text=heading)).to_be_visible()
    expect(page.locator("#stats-total")).to_contain_text("合计")
    expect(page.locator("#computed-at")).to_contain_text("统计时间")
    expect(page.locator("#stats-chart canvas").first).to_be_visible()
    page.screenshot(path=str(screenshots / f"stats-{path.rsplit('/', 1)[-1]}.png"), full_page=True)


def test_a_number_opens_the_people_behind_it(page, login):
    """Clicking 人员数量 of the total row lists the people (masked ID numbers)."""
    login("town_nansha")
    page.goto("/stats/tests")
    total = page.locator('#stats-total [data-key="staff"] a')
    count = total.inner_text()
    total.click()
    expect(page.locator("#drill-title")).to_contain_text("人员")
    expect(page.locator(".sentinel-pager .total")).to_contain_text(f"共 {count} 条")
    assert "*" in page.locator("#people-table td.id-number").first.inner_text()
