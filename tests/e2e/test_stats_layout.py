"""The statistics tables as a user reads them: on a PC (1366×768) the table has the page's
width, no heading or town name broken over lines, the chart under it; on a phone
(390×844) the table scrolls inside its own box with the town column staying in view."""
from __future__ import annotations

import pytest

PAGES = ("/stats/tests", "/stats/vaccines")

# Lines of text in a cell: the height of its text's box against the cell's line height.
LINES = """(cell) => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  const text = range.getBoundingClientRect().height;
  const line = parseFloat(getComputedStyle(cell).lineHeight);
  return text / line;
}"""


def _open(browser, live_server, width, height, path, username="taskforce"):
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto("/login/")
    page.fill("#username", username)
    page.fill("#password", "Sentinel#2026")
    page.locator("form[name=login] [type=submit]").click()
    page.wait_for_load_state("networkidle")
    page.goto(path)
    page.wait_for_load_state("networkidle")
    return context, page


@pytest.mark.parametrize("path", PAGES)
def test_pc_table_is_full_width_one_line_per_cell_chart_below(browser, live_server, screenshots, path):
    """At 1366×768 no heading or town name wraps, the table fits without scrolling, and the chart is under it."""
    context, page = _open(browser, live_server, 1366, 768, path)
    try:
        cells = page.locator("#stats-table thead th, #stats-table tbody td:first-child")
        assert cells.count() > 10
        wrapped = [(cell.inner_text(), round(lines, 2)) for cell in cells.all()
                   if (lines := cell.evaluate(LINES)) > 1.5]
        assert not wrapped, f"cells broken over lines: {wrapped}"
        box = page.locator("#stats-table-box")
        assert box.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), "the table needs a scroll bar on a PC"
        table = page.locator("#stats-table").bounding_box()
        chart = page.locator("#stats-chart").bounding_box()
        assert chart["y"] >= table["y"] + table["height"], "the chart is beside the table, not under it"
        assert table["width"] > 900
        page.screenshot(path=str(screenshots / f"stats-layout-pc-{path.rsplit('/', 1)[-1]}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_phone_table_scrolls_in_its_box_with_the_town_fixed(browser, live_server, screenshots, path):
    """At 390×844 the table scrolls sideways inside its box; the town column stays in place, the numbers move."""
    context, page = _open(browser, live_server, 390, 844, path)
    try:
        box = page.locator("#stats-table-box")
        assert box.evaluate("b => b.scrollWidth > b.clientWidth"), "the table does not scroll in its box"
        assert box.bounding_box()["width"] <= 390
        town = page.locator("#stats-table tbody tr").first.locator("td").first
        number = page.locator("#stats-table tbody tr").first.locator("td").nth(3)
        town_x, number_x = town.bounding_box()["x"], number.bounding_box()["x"]
        box.evaluate("b => { b.scrollLeft = 200; }")
        page.wait_for_function("() => document.getElementById('stats-table-box').scrollLeft > 0")
        assert town.bounding_box()["x"] == pytest.approx(town_x, abs=1)
        assert number.bounding_box()["x"] < number_x - 100
        assert town.evaluate("c => getComputedStyle(c).position") == "sticky"
        page.screenshot(path=str(screenshots / f"stats-layout-phone-{path.rsplit('/', 1)[-1]}.png"), full_page=True)
    finally:
        context.close()


def test_chart_folds_away(browser, live_server):
    """统计图 is a fold: one click hides the chart, another shows it again."""
    context, page = _open(browser, live_server, 1366, 768, "/stats/tests")
    try:
        chart = page.locator("#stats-chart")
        assert chart.is_visible()
        page.locator("#stats-chart-box > summary").click()
        assert not chart.is_visible()
        page.locator("#stats-chart-box > summary").click()
        assert chart.is_visible()
    finally:
        context.close()
