"""The district admin's screens are Chinese (issue 13, item 8): every page reachable from
the admin's menus — each menu link, and on each list its first detail page, its first
edit page and its add form — carries no English word of the UI, no raw None/True/False,
no role code in brackets and no time with seconds, microseconds or "UTC".

The check reads a page's visible text (no script, style or attributes) after removing
the values that are data rather than UI (user names, codes of bureaus, types and
vaccines): those may well be English. Content shown as it was written or sent — a
message's text, a provider's error — sits in elements marked ``translate="no"`` (a
field declared ``verbatim``): only those cells are left out, never their labels.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.security import roles as R
from tests.conftest import login
from tests.integration import factories as F

# English words of Flask-AppBuilder's and our UI that a Chinese page must not show
ENGLISH_WORDS = [
    "List", "Add", "Edit", "Show", "Delete", "Search", "Actions", "Record Count", "First Name", "Last Name",
    "Username", "Active", "Login Count", "Email", "Groups", "Group", "Roles", "Role", "Users", "User", "Name",
    "Label", "Description", "Permissions", "Permission", "Save", "Back", "Cancel", "OK", "Yes", "No", "Detail",
    "Profile", "Logout", "Refresh", "Created", "Changed", "Password", "Reset", "Message", "Audit", "Town",
]
ENGLISH = re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(w) for w in ENGLISH_WORDS) + r")(?![A-Za-z])")
RAW_VALUES = re.compile(r"(?<![A-Za-z])(None|True|False)(?![A-Za-z])")
_CODES = "|".join([R.DISTRICT_ADMIN, *R.ROLE_PERMISSIONS])
# a role code in brackets, or alone in a text node (a role code that is also a user name is data)
ROLE_CODE = re.compile(r"\[\s*'?(" + _CODES + r")'?\s*\]|(?:^|(?<=\| ))(" + _CODES + r")(?= \||$)")
PRECISE_TIME = re.compile(r"\d{1,2}:\d{2}:\d{2}|\d:\d{2}\.\d+|(?<![A-Za-z])UTC(?![A-Za-z])|[+-]00:00")

# links of the menus that are not pages to read
SKIPPED = re.compile(r"^/(lang/|logout)|/export|\.xlsx|/template")
DETAIL = re.compile(r"^/[\w-]+/(show/)?\d+/?$")
EDIT = re.compile(r"^/[\w-]+/(edit/\d+|\d+/edit)/?$")
ADD = re.compile(r"^/[\w-]+/add/?$")


class _Page(HTMLParser):
    """The visible text of a page and its links, the navbar's links apart; the text of
    an element marked ``translate="no"`` (verbatim content) is left out."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.menu: list[str] = []
        self._hidden = 0
        self._header = 0
        self._verbatim: list = []  # [tag, depth] of the open translate="no" element

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "header":
            self._header += 1
        if self._verbatim and tag == self._verbatim[0]:
            self._verbatim[1] += 1
        elif not self._verbatim and dict(attrs).get("translate") == "no":
            self._verbatim = [tag, 1]
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/"):
            (self.menu if self._header else self.links).append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1
        if tag == "header":
            self._header -= 1
        if self._verbatim and tag == self._verbatim[0]:
            self._verbatim[1] -= 1
            if not self._verbatim[1]:
                self._verbatim = []

    def handle_data(self, data):
        if not self._hidden and not self._verbatim and data.strip():
            self.text.append(data.strip())


def read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def problems(segments: list[str], data_values: set[str]) -> list[str]:
    """What on a page (its text nodes, in order) is English or raw, each with some context.
    A text node that is exactly a data value (a user name, a code) is left out first."""
    text = " | ".join(s for s in segments if s not in data_values)
    found = []
    for pattern in (ENGLISH, RAW_VALUES, ROLE_CODE, PRECISE_TIME):
        for match in pattern.finditer(text):
            found.append(f"{match.group(0)!r} in …{text[max(0, match.start() - 20):match.end() + 20]}…")
    return found


def test_the_checker_tells_english_and_raw_values_apart():
    """The check itself: catches each kind of problem and passes a clean Chinese page."""
    assert problems(["用户列表", "姓名", "启用", "是", "2026-12-05 08:09", "查看详情"], set()) == []
    for bad in (["List Groups"], ["记录数", "Record Count"], ["启用", "True"], ["镇街", "None"],
                ["角色", "[district_admin]"], ["角色", "town"], ["2026-12-04 16:09:39.984256"],
                ["2026-12-04 16:09:39"], ["16:09 UTC"], ["编辑Edit"]):
        assert problems(bad, set()), bad
    assert problems(["用户", "town_nansha", "taskforce"], {"town_nansha", "taskforce"}) == []
    # verbatim content (translate="no") is left out, its label and every other cell are not
    row = ('<table><tr><th>{label}</th><td translate="no"><div>于2026-12-04 16:09:39进入</div>'
           '<div>Message rejected</div></td><td>{cell}</td></tr></table>')
    assert problems(read(row.format(label="内容", cell="发送失败")).text, set()) == []
    assert problems(read(row.format(label="Message", cell="发送失败")).text, set())
    assert problems(read(row.format(label="内容", cell="Yes")).text, set())
    assert problems(read(row.format(label="内容", cell="16:09:39")).text, set())
    assert problems(read('<td translate="yes">Message</td>').text, set())


def _data_values(app) -> set[str]:
    """Values that are data, not UI: user names, the codes of bureaus, types and vaccines
    and the vaccines' other names."""
    from models.enterprise_types import EnterpriseType
    from models.organisations import Bureau
    from models.users import SentinelUser
    from models.vaccines import VaccineProduct

    def collect(session):
        values = list(session.execute(select(SentinelUser.username)).scalars())
        values += session.execute(select(Bureau.code)).scalars().all()
        values += session.execute(select(EnterpriseType.code)).scalars().all()
        for code, aliases in session.execute(select(VaccineProduct.code, VaccineProduct.aliases)):
            values.append(code)
            values += (aliases or "").splitlines()
        return {v for v in values if v}

    return F.in_db(app, collect)


def _seed(app):
    """Something in each record list: a sent and a failed message, a checkpoint decision's
    message (its text word for word, a time with seconds in it: content, not UI), a
    refused login, an admin action."""
    from app.services.drivers.notifications import TEMPLATES
    from models.notify import Message

    def add(session):
        for status, error in (("sent", None), ("failed", "HTTP 500")):
            session.add(Message(channel="webhook", kind="messenger", recipient="https://robot.example/hook",
                                body="测试消息", status=status, attempts=1, last_error=error,
                                idempotency_key="admin-screens-" + F.tag() + status))
        _subject, body = TEMPLATES[(True, False)].render({
            "company": "测试物流公司", "name": "李某某", "time": "2026-12-04 16:09:39", "district": "南沙区",
            "district_short": "南沙", "reason": "健康码红码"})
        session.add(Message(channel="sms-http", kind="sms", recipient="13900000001", body=body, status="failed",
                            attempts=3, last_error="Message rejected: User unknown",
                            idempotency_key="admin-screens-" + F.tag() + "decision"))
        session.commit()

    F.in_db(app, add)
    client = F.client_at(app)
    login(client, "admin", "Wrong#Password1")  # a security event
    username = F.make_user(app, "screens_" + F.tag()[1:], R.BUREAU, bureau="port", phone_number=F.phone())

    def audited_edit(session):  # an account's change as the audit log keeps it: raw values in JSON
        from app.platform import audit

        audit.record("update", "User", 1, before={"username": username, "active": True, "town": None,
                                                  "roles": [R.BUREAU], "must_change_password": False},
                     after={"username": username, "active": False, "town": "南沙街", "roles": [R.TOWN]})
        session.commit()
        return F.last_audit_id(app)

    return F.in_db(app, audited_edit)


def _pages(client) -> dict[str, str]:
    """Every page of the admin's menus and, from each, the first detail, edit and add page."""
    home = client.get("/welcome")
    assert home.status_code == 200
    start = [link for link in dict.fromkeys(read(home.get_data(as_text=True)).menu) if not SKIPPED.search(link)]
    pages: dict[str, str] = {}
    for link in start:
        response = client.get(link)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        pages[link] = html
        inner = [href for href in read(html).links if not SKIPPED.search(href)]
        for kind in (DETAIL, EDIT, ADD):
            follow = next((href for href in inner if kind.match(href.split("?")[0]) and href not in pages), None)
            if follow:
                answer = client.get(follow)
                assert answer.status_code == 200, follow
                pages[follow] = answer.get_data(as_text=True)
                if kind is DETAIL:  # its edit link may be on the detail page only
                    inner += read(pages[follow]).links
    return pages


def test_every_admin_page_is_in_chinese(app):
    audit_id = _seed(app)
    client = F.client_at(app)
    assert login(client, "admin").status_code == 302
    pages = _pages(client)
    pages[f"/audit_log/{audit_id}"] = client.get(f"/audit_log/{audit_id}").get_data(as_text=True)
    for must in ("/users/list/", "/roles/list/", "/audit_log/", "/outbox/", "/towns/", "/security-events/",
                 "/users/add", "/users/userinfo/", "/resetmypassword/form"):
        assert any(link.startswith(must) for link in pages), (must, sorted(pages))
    for link in ("/users/list/", "/users/add", "/roles/list/"):  # the search's role choices sit in a script
        assert not re.search(r">\s*(district_admin|enterprise_head|bureau|town)\s*<", pages[link].replace("\\u003c", "<")
                             .replace("\\u003e", ">")), link
    data = _data_values(app)
    found, seen = {}, set()
    for link, html in pages.items():
        new = [item for item in problems(read(html).text, data) if item not in seen]
        seen.update(new)
        if new:
            found[link] = new
    assert found == {}, "\n".join(f"{link}: {items}" for link, items in found.items())
    assert "须修改密码：否" in pages[f"/audit_log/{audit_id}"]  # an audited change: its fields by name
    outbox = next(html for link, html in pages.items() if link.startswith("/outbox/"))
    assert re.search(r'<td translate="no">[^<]*于2026-12-04 16:09:39进入南沙区卡口时', outbox)  # shown as sent


def test_user_permissions_menu_holds_accounts_and_roles_only(app):
    """用户权限 → 用户管理 and 角色: roles are defined in code (read only here, no public role),
    FAB's user groups are closed (they would lend roles the scope does not see), and its
    empty permission tables have no pages."""
    client = F.client_at(app)
    assert login(client, "admin").status_code == 302
    menu = read(client.get("/welcome").get_data(as_text=True)).menu
    assert "/users/list/" in menu and "/roles/list/" in menu
    for gone in ("/groups/list/", "/permissions/list/", "/viewmenus/list/", "/permissionviews/list/"):
        assert gone not in menu
        assert client.get(gone).status_code in (403, 404), gone
    roles = read(client.get("/roles/list/").get_data(as_text=True)).text
    assert "区管理员" in roles and "企业负责人" in roles and "public" not in roles
    role_id = F.in_db(app, lambda s: s.execute(select(Role.id).where(Role.name == R.TOWN)).scalar_one())
    for path in ("/roles/add", f"/roles/edit/{role_id}", f"/roles/delete/{role_id}"):
        assert client.get(path).status_code == 403, path
    shown = client.get(f"/roles/show/{role_id}").get_data(as_text=True)
    assert "town_nansha" in shown and "镇街" in shown


def test_every_object_an_audit_or_security_event_can_name_reads_in_chinese(app):
    """审计日志 and 安全事件 name their objects by model or permission resource: each has a
    Chinese name, so no page shows 'Town' or 'Booking' (a new module adds its own)."""
    import inspect
    import pkgutil
    from importlib import import_module

    import models
    from app.services.records import ENTITIES, entity_label

    named = {key for key, _label in ENTITIES}
    model_names = {name for info in pkgutil.iter_modules(models.__path__)
                   for name, obj in vars(import_module(f"models.{info.name}")).items()
                   if inspect.isclass(obj) and getattr(obj, "__tablename__", None)
                   and obj.__module__ == f"models.{info.name}"}
    resources = {resource for grants in R.ROLE_PERMISSIONS.values() for resource in grants}
    assert not (model_names | resources) - named
    with app.test_request_context():
        assert entity_label("Town") == "镇街" and entity_label(None) == ""
