"""No button leads to 403 (issue 13 item 7): every role walks its menus and every link,
button and form it is shown, and none answers 403 (or fails with a 5xx).

GET links are followed (a few per page kind). A form is checked with the method it uses
but without changing data: a GET form is opened; for a POST form whose address also
answers GET (an add or edit page), that page is opened; a POST-only action (delete, a
choice that is posted), and any link whose view changes data on GET (Flask-AppBuilder's
user and role admin), is checked against the permission its view method declares, the
one ``@has_access`` will require, held by the signed-in user.
"""
from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.conftest import csrf_from, login
from tests.integration import factories as F
from tests.integration.security.test_sms_login import _ip, ask_code, head_phone, last_code, submit

PER_KIND = 2  # URLs visited per endpoint (a list's second page, a second detail…)
LIMIT = 400  # requests per role, a guard against a walk that never ends
SKIP = re.compile(r"^/(static|lang|logout|api|swagger|appbuilder)/|/logout$")
# endpoints whose GET changes data (FAB's model views: /delete/<pk>, /action/…)
CHANGES_ON_GET = re.compile(r"\.(delete|action|action_post|.*reset.*)$")


class _Page(HTMLParser):
    """The links and forms of one page."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, str]] = []  # (method, action)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self.forms.append(((attrs.get("method") or "get").lower(), attrs.get("action")))


def _local(base: str, href: str) -> str | None:
    if href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    parts = urlsplit(urljoin(base, href))
    if parts.netloc not in ("", "localhost"):
        return None
    path = parts.path or "/"
    if SKIP.search(path):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


class Walk:
    def __init__(self, app, client, who: str):
        self.app, self.client, self.who = app, client, who
        self.adapter = app.url_map.bind("localhost")
        self.kinds: Counter = Counter()
        self.seen: set[str] = set()
        self.problems: list[str] = []
        self.requests = 0

    def endpoint(self, url: str, method: str = "GET") -> str | None:
        try:
            return self.adapter.match(urlsplit(url).path, method=method)[0]
        except (NotFound, MethodNotAllowed):
            return None
        except Exception:  # a redirect rule (trailing slash)
            return None

    def allowed(self, endpoint: str) -> bool:
        """Whether the signed-in user holds the permission ``endpoint`` requires."""
        from app.security.actions import can

        with self.client:
            self.client.get("/welcome")  # a request of this user, kept open for the check
            return can(endpoint)

    def check_permission(self, source: str, url: str, method: str) -> None:
        endpoint = self.endpoint(url, method)
        if endpoint and not self.allowed(endpoint):
            self.problems.append(f"{self.who}: {source} shows {method} {url} ({endpoint}) without the permission")

    def run(self, start: str = "/") -> list[str]:
        queue = [("(start)", start)]
        while queue and self.requests < LIMIT:
            source, url = queue.pop(0)
            if url in self.seen:
                continue
            endpoint = self.endpoint(url) or url
            if CHANGES_ON_GET.search(endpoint):
                self.check_permission(source, url, "GET")
                continue
            if self.kinds[endpoint] >= PER_KIND:
                continue
            self.seen.add(url)
            self.kinds[endpoint] += 1
            response = self.client.get(url)
            self.requests += 1
            if response.status_code == 403 or response.status_code >= 500:
                self.problems.append(f"{self.who}: {source} links to {url}, which answers {response.status_code}")
                continue
            if response.status_code in (301, 302, 303, 307, 308):
                target = _local(url, response.headers["Location"])
                if target:
                    queue.append((url, target))
                continue
            if "text/html" not in (response.content_type or ""):
                continue
            page = _Page()
            page.feed(response.get_data(as_text=True))
            for href in page.links:
                target = _local(url, href)
                if target:
                    queue.append((url, target))
            for method, action in page.forms:
                target = _local(url, action or url)
                if not target:
                    continue
                if method == "get" or self.endpoint(target, "GET"):
                    queue.append((url, target))  # a search form, or the form's own page
                else:
                    self.check_permission(url, target, "POST")
        return self.problems


def _government(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _head(app):
    """A head with two enterprises (with staff), logged in by SMS code, the first enterprise chosen."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = _ip()  # the per-address code limit is per test
    phone, ids = head_phone(app, enterprises=2)
    for enterprise_id in ids:
        F.make_staff(app, enterprise_id, F.tag())
    assert ask_code(client, phone).status_code == 200
    assert submit(client, phone, last_code(app, phone)).status_code == 302
    page = client.get("/head/select")
    picked = client.post("/head/select", data={"enterprise_id": ids[0], "csrf_token": csrf_from(page.data)})
    assert picked.status_code == 302
    return client


ROLES = ["admin", "town_nansha", "bureau_port", "taskforce", "checkpoint", "head"]


@pytest.fixture(scope="module")
def every_list_has_rows(app):
    """Rows behind the lists the demo data leaves empty, so their row links are walked too:
    today's 未按规定检测 for a person in 南沙街 (a port enterprise)."""
    from app.platform.clock import local_today
    from models.rules import ComplianceResult

    staff_id = F.make_staff(app, F.make_enterprise(app, F.tag() + "巡检企业"), F.tag())

    def broken(session):
        session.add(ComplianceResult(day=local_today(), staff_id=staff_id, setting_id=0, rule="一天一检",
                                     samplings=0, compliant=False))
        session.commit()

    F.in_db(app, broken)


@pytest.mark.usefixtures("every_list_has_rows")
@pytest.mark.parametrize("who", ROLES)
def test_no_link_button_or_form_answers_403(app, who):
    """Each role opens its home, its menus and everything they link to: nothing it is shown answers 403."""
    client = _head(app) if who == "head" else _government(app, who)
    walk = Walk(app, client, who)
    problems = walk.run("/")
    assert walk.requests > 3, f"{who} reached almost nothing: {sorted(walk.seen)}"
    assert not problems, "\n".join(problems)


def test_head_sees_no_enterprise_management_buttons(app):
    """企业管理 for a head (read only): no 新增 / 批量新增 / 删除选中 / 编辑; a town user sees them."""
    client = _head(app)
    listing = client.get("/enterprises/").get_data(as_text=True)
    for button in ('id="btn-add"', 'id="btn-import"', 'id="btn-delete-selected"', 'id="select-all"'):
        assert button not in listing
    detail_url = re.search(r'href="(/enterprises/\d+)"', listing)
    assert detail_url, listing
    assert 'id="btn-edit"' not in client.get(detail_url.group(1)).get_data(as_text=True)

    town = _government(app, "town_nansha")
    listing = town.get("/enterprises/").get_data(as_text=True)
    for button in ('id="btn-add"', 'id="btn-import"', 'id="btn-delete-selected"'):
        assert button in listing


@pytest.mark.parametrize("username, asked, expected", [
    ("town_nansha", ("EnterpriseView.add",), True),
    ("taskforce", ("EnterpriseView.add",), False),
    ("taskforce", ("StatsView.tests",), True),
    ("taskforce", ("StaffView.detail",), False),
    ("taskforce", ("read", "Statistics"), True),
    ("taskforce", ("write", "Staff"), False),
    ("admin", ("NoSuchView.list",), False),  # a module not installed: no button
    ("checkpoint", ("HomeView.welcome",), True),  # a page without @has_access
])
def test_can_answers_what_the_page_will(app, username, asked, expected):
    """``can`` (the template global) agrees with the page: a button shows exactly when its page opens."""
    from app.security.actions import can

    client = _government(app, username)
    with client:
        client.get("/welcome")
        assert can(*asked) is expected
    if len(asked) == 1 and not asked[0].startswith("NoSuch"):
        url = {"EnterpriseView.add": "/enterprises/add", "StatsView.tests": "/stats/tests",
               "StaffView.detail": "/staff/1", "HomeView.welcome": "/welcome"}[asked[0]]
        assert (client.get(url).status_code != 403) is expected
