"""Chinese by default, English through the language menu: our pages, FAB's own strings,
API error messages and the role names on the welcome page."""
from __future__ import annotations

from tests.conftest import login

NOT_FOUND_ZH = "数据不存在或无权访问"
NOT_FOUND_EN = "Not found, or you have no access to it"


def test_pages_are_chinese_by_default_and_english_after_switching(client):
    """A town user sees the enterprise list in Chinese, picks English in the menu and sees it in English."""
    login(client, "town_nansha")
    page = client.get("/enterprises/").get_data(as_text=True)
    assert "导出全部" in page and "Export all" not in page
    assert 'href="/lang/en"' in page  # the language menu offers English

    switched = client.get("/lang/en")
    assert switched.status_code == 302
    page = client.get("/enterprises/").get_data(as_text=True)
    assert "Export all" in page and "导出全部" not in page
    assert "Logout" in page and 'href="/lang/zh_CN"' in page  # FAB's strings too, and the way back

    client.get("/lang/zh_CN")
    assert "导出全部" in client.get("/enterprises/").get_data(as_text=True)


def test_login_page_uses_fab_chinese_catalog_next_to_ours(client):
    """FAB's own labels on the login page are Chinese by default and English once switched."""
    page = client.get("/login/").get_data(as_text=True)
    assert "用户名" in page and "Username" not in page
    client.get("/lang/en")
    page = client.get("/login/").get_data(as_text=True)
    assert "Username" in page and "用户名" not in page


def test_api_error_messages_follow_the_chosen_language(client, auth):
    """A 404 from the API is Chinese by default, English with ?_l_=en or after switching the session to English."""
    headers = auth.token("town_nansha")
    assert client.get("/api/v1/enterprise/999999999", headers=headers).json == {"message": NOT_FOUND_ZH}
    assert client.get("/api/v1/enterprise/999999999?_l_=en", headers=headers).json == {"message": NOT_FOUND_EN}
    client.get("/lang/en")
    assert client.get("/api/v1/enterprise/999999999", headers=headers).json == {"message": NOT_FOUND_EN}


def test_domain_rule_messages_are_translated(client, auth):
    """A rule of the domain layer (a bad phone number) answers in the user's language."""
    headers = auth.token("town_nansha")
    body = {"name": "英文测试企业", "type_code": "port", "town": "南沙街", "address": "广州市南沙区测试路9号",
            "head_name": "张三", "head_phone": "12345"}
    zh = client.post("/api/v1/enterprise/", json=body, headers=headers)
    en = client.post("/api/v1/enterprise/?_l_=en", json=body, headers=headers)
    assert zh.status_code == en.status_code == 400
    assert "手机号码格式不正确" in str(zh.json)
    assert "Invalid mobile number" in str(en.json) and "手机号码格式不正确" not in str(en.json)


def test_welcome_page_names_roles_not_codes(client):
    """The welcome page shows the role's name (专班 / Task force), never its code."""
    login(client, "taskforce")
    page = client.get("/welcome").get_data(as_text=True)
    assert '<span class="label label-info role-name">专班</span>' in page
    assert ">taskforce<" not in page
    client.get("/lang/en")
    page = client.get("/welcome").get_data(as_text=True)
    assert '<span class="label label-info role-name">Task force</span>' in page


def test_memoised_labels_keep_parameters_and_work_outside_a_request(app):
    """``labels.text``: a message with parameters is formatted each time (never the first
    call's values), a msgid is translated like its lazy string, and outside an app the
    Chinese msgid itself is the text."""
    from app.domain.i18n import _
    from app.platform import labels

    assert labels.text(_("阴性")) == "阴性"  # no app context
    with app.test_request_context("/?_l_=en"):
        assert labels.text(_("阴性")) == labels.text("阴性") == "Negative"
        first, second = _("%(dose)s可接种人数", dose="D1"), _("%(dose)s可接种人数", dose="D2")
        assert (labels.text(first), labels.text(second)) == ("D1: eligible", "D2: eligible")


def test_a_translator_looks_the_catalog_up_once_and_translates_as_gettext(app):
    """``labels.translator``: msgids, lazy strings and parameters as ``gettext`` gives them,
    in the request's language; outside an app the Chinese msgid itself."""
    from flask_babel import gettext

    from app.domain import checkpoint as CP
    from app.domain.i18n import _
    from app.platform import labels

    assert labels.translator()(_("阴性")) == "阴性"  # no app context
    for lang, enterprise, reason in (("en", "Driver of a 南沙 enterprise", "Yellow health code"),
                                     ("zh_CN", "南沙企业司机", "健康码黄码")):
        with app.test_request_context(f"/?_l_={lang}"):
            tr = labels.translator()
            assert tr(CP.LABEL_ENTERPRISE, district="南沙") == enterprise
            assert tr(CP.DENY_REASONS[0]) == reason == gettext(CP.DENY_REASONS[0])
            assert tr(_("阴性")) == str(_("阴性"))
            assert tr(_("%(dose)s可接种人数", dose="D1")) == str(_("%(dose)s可接种人数", dose="D1"))


def test_no_answer_sets_a_cookie_it_was_not_asked_for(app, auth):
    """An API call, with a token or public, answers without a session cookie: the
    language is chosen, not stored (FAB stored the default in a new session on every
    request, so every API answer came with ``Set-Cookie``). A page with a form still
    keeps its CSRF token in the session."""
    headers = auth.token("town_nansha")
    client = app.test_client()  # a client holding no cookie
    for answer in (client.get("/api/v1/enterprise/999999999", headers=headers),
                   client.get("/api/v1/enterprise/999999999?_l_=en", headers=headers),
                   client.get("/api/v1/checkpoint/keys")):
        assert answer.status_code in (200, 404)
        assert answer.headers.getlist("Set-Cookie") == [], answer.request.path
    assert client.get("/login/").headers.getlist("Set-Cookie") != []


def test_the_language_menu_names_the_language_in_use(client):
    """A new visitor's menu shows 中文 (the page's language) and offers English; once
    English is picked it shows English and offers 中文."""
    zh_name, en_name = "中文", "English"
    page = client.get("/login/").get_data(as_text=True)
    menu = page[page.index("fa-globe"):page.index("</ul>", page.index("fa-globe"))]
    assert menu.split("<b")[0].strip().endswith(zh_name), menu
    assert 'href="/lang/en"' in menu and 'href="/lang/zh_CN"' not in menu
    client.get("/lang/en")
    page = client.get("/login/").get_data(as_text=True)
    menu = page[page.index("fa-globe"):page.index("</ul>", page.index("fa-globe"))]
    assert menu.split("<b")[0].strip().endswith(en_name), menu
    assert 'href="/lang/zh_CN"' in menu


def test_an_unknown_language_falls_back_to_chinese(client, auth):
    """``?_l_=xx`` (not a language of the app) answers in the default language."""
    headers = auth.token("town_nansha")
    assert client.get("/api/v1/enterprise/999999999?_l_=fr", headers=headers).json == {"message": NOT_FOUND_ZH}


def test_picking_a_language_returns_to_the_page_it_was_picked_on(client):
    """A driver on the public booking page picks English and is back on that page (not
    the staff login); a Referer of another site is not followed."""
    answer = client.get("/lang/en", headers={"Referer": "http://localhost/driver/book"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/driver/book")
    answer = client.get("/lang/zh_CN", headers={"Referer": "https://evil.example/driver/book"})
    assert answer.status_code == 302 and "evil.example" not in answer.headers["Location"]
