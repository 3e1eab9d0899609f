"""Light pages (issue 13, page weight): a page seen before costs one request — its HTML;
a first visit of a page without charts stays under 300 KB on the wire; 下载模板 downloads
the template. (The numbers per page and role: bench/bench_page_weight.py.)"""
from __future__ import annotations

import re

from tests.e2e.conftest import Wire

FIRST_VISIT_LIMIT = 300 * 1024


def test_a_page_seen_before_fetches_only_its_html(page, login, live_server):
    """Cache emptied, a page's first visit is under 300 KB (no chart) and its repeat visit
    asks the server for the HTML alone; the same for a chart page's repeat visit."""
    login("town_nansha")
    wire = Wire(page)
    for path, first_limit in (("/staff/", FIRST_VISIT_LIMIT), ("/enterprises/", FIRST_VISIT_LIMIT), ("/stats/tests", None)):
        wire.clear_cache()
        wire.reset()
        page.goto(path, wait_until="networkidle")
        wire.settle(page)
        count, size, urls = wire.tally()
        assert count > 5, urls  # styles, scripts and fonts came over the wire
        if first_limit:
            assert size < first_limit, (path, size, urls)
        wire.reset()
        page.goto(path, wait_until="networkidle")
        wire.settle(page)
        count, size, urls = wire.tally()
        assert urls == [live_server.url + path], urls


def test_the_import_template_downloads(page, login):
    """On 批量新增企业, 下载模板 saves the chosen type's template (an .xlsx), it does not open a page."""
    login("admin")
    page.goto("/import/enterprise/")
    with page.expect_download() as download:
        page.locator("#btn-template").click()
    assert re.search(r"企业导入模板\.xlsx$", download.value.suggested_filename), download.value.suggested_filename
    assert page.url.endswith("/import/enterprise/")
