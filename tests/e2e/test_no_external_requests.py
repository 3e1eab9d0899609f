"""In a real browser, pages fetch nothing from outside the platform (SPEC §8: no CDN,
intranets have no internet) — including what scripts load at run time."""
from __future__ import annotations

import sqlite3

import pytest

# pages outside the menus; every page the admin's menus link to is opened as well
PAGES = ["/", "/enterprises/add", "/enterprises/{enterprise}", "/staff/add", "/staff/{staff}", "/swagger/v1"]


@pytest.fixture
def watched(page, live_server):
    """The page, plus every request and console error it makes that does not stay on the app."""
    outside: list[str] = []

    def on_request(request):
        url = request.url
        if not url.startswith((live_server.url + "/", "data:", "blob:", "about:")):
            outside.append(f"request {url}")

    def on_console(message):
        if message.type == "error" and "Refused to" in message.text:
            outside.append(f"blocked {message.text[:300]}")

    page.on("request", on_request)
    page.on("console", on_console)
    return page, outside


def test_admin_pages_load_nothing_from_outside(watched, login, live_server):
    """The district admin's pages (registry, API docs, system admin, charts) load only the platform's own files."""
    page, outside = watched
    with sqlite3.connect(live_server.database) as conn:
        ids = {"enterprise": conn.execute("SELECT min(id) FROM enterprise").fetchone()[0],
               "staff": conn.execute("SELECT min(id) FROM staff").fetchone()[0]}
    login("admin")
    menu = [a.get_attribute("href") for a in page.locator(".navbar-nav .dropdown-menu a[href^='/']").all()]
    menu = [href for href in menu if not href.startswith(("/logout", "/lang/"))]
    assert "/enterprises/" in menu and len(menu) >= 8, menu
    opened = []
    for path in dict.fromkeys([p.format(**ids) for p in PAGES] + menu):
        response = page.goto(path)
        page.wait_for_load_state("networkidle")
        opened.append((path, response.status))
    assert [o for o in opened if o[1] != 200] == [], opened
    assert outside == []
