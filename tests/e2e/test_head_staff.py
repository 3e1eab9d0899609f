"""员工管理 in the browser (issue 13): the enterprise head's phone flow of seed 000
§2.3–2.4 at 390×844 — search, 新增, 导入 from the downloaded template, 删除 from 人员信息,
删除本页 with the count in its confirmation — and, on a PC (1366×768), deleting a person
from their detail page, the 主体名称 filter and the ledger's chosen columns."""
from __future__ import annotations

import random
import re
import uuid

from playwright.sync_api import expect
from stdnum.cn import ric

from tests.e2e.conftest import PASSWORD, fill_template, latest_sms_code

HEAD_PHONE = "13900000003"  # app/cli/demo.py: heads one demo enterprise; no other test logs in with it
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PC = {"viewport": {"width": 1366, "height": 768}}


def _id_number(rng: random.Random) -> str:
    body = f"440115{rng.randrange(1960, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def _staff_total(page) -> int:
    return int(re.search(r"工作人员：(\d+)", page.locator("#staff-total").inner_text()).group(1))


def _search(page, keyword: str) -> None:
    page.fill("#staff-q", keyword)
    page.locator("#btn-search").click()
    page.wait_for_load_state("networkidle")


def test_head_manages_staff_on_a_phone(browser, live_server, screenshots, tmp_path):
    """Home → 员工管理: search, 新增, 导入 (the downloaded template), 删除 from 人员信息, 删除本页 stating its count."""
    rng = random.Random()
    tag = "员" + uuid.uuid4().hex[:5]
    context = browser.new_context(base_url=live_server.url, accept_downloads=True, **PHONE)
    page = context.new_page()
    try:
        page.goto("/head/login")
        page.fill("#phone", HEAD_PHONE)
        page.locator("#get-code").click()
        expect(page.locator("#code-status")).to_have_text("验证码已发送")
        page.fill("#code", latest_sms_code(live_server.database, HEAD_PHONE))
        page.locator("#login-btn").click()
        expect(page).to_have_url(re.compile(r"/head/$"))
        expect(page.locator("#bucket-24h")).to_contain_text("(n≤24小时)")
        expect(page.locator("#bucket-48h")).to_contain_text("(24<n≤48小时)")
        expect(page.locator("#data-source-note")).to_have_text(
            "核酸检测统计以核酸采样时间为准。系统核酸数据源为广州市内近14天的核酸检测数据。")
        page.screenshot(path=str(screenshots / "head-home-ranges-phone.png"), full_page=True)

        page.locator("#staff-link").click()
        expect(page).to_have_url(re.compile(r"/head/staff$"))
        expect(page.locator("#staff-total")).to_have_text(re.compile(r"^.+企业\d*，工作人员：\d+$"))
        total = _staff_total(page)
        assert 1 <= page.locator(".staff-card").count() <= 10
        expect(page.locator(".staff-card .staff-phone").first).to_have_text(re.compile(r"^1\d\d\*{4}\d{4}$"))
        for selector in ("#btn-template", "#btn-import", "#btn-add", "#btn-delete-page", ".staff-card"):
            box = page.locator(selector).first.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (selector, box)
        page.screenshot(path=str(screenshots / "head-staff-phone.png"), full_page=True)

        # search: one name finds that person
        someone = page.locator(".staff-card .staff-name").first.inner_text()
        _search(page, someone)
        expect(page.locator(".staff-card")).not_to_have_count(0)
        for name in page.locator(".staff-card .staff-name").all_inner_texts():
            assert someone in name

        # 新增: the form, 确定, back on the list
        page.goto("/head/staff")
        page.locator("#btn-add").click()
        expect(page).to_have_url(re.compile(r"/staff/add\?"))
        page.fill("#f-name", f"{tag}新增")
        page.fill("#f-id_number", _id_number(rng))
        page.fill("#f-phone", "13363463467")
        page.screenshot(path=str(screenshots / "head-staff-add-phone.png"), full_page=True)
        page.locator("#btn-save").click()
        expect(page).to_have_url(re.compile(r"/head/staff$"))
        expect(page.locator(".alert").first).to_contain_text("已保存")
        assert _staff_total(page) == total + 1

        # 导入: 下载模板 from the list, fill two rows, 导入 → back to the list
        with page.expect_download() as download:
            page.locator("#btn-template").click()
        template = tmp_path / "template.xlsx"
        download.value.save_as(template)
        fill_template(template, [
            {"姓名": f"{tag}导入一", "身份证号码": _id_number(rng), "手机号码": "13612345670"},
            {"姓名": f"{tag}导入二", "身份证号码": _id_number(rng), "手机号码": 13612345671},
        ])
        page.locator("#btn-import").click()
        expect(page).to_have_url(re.compile(r"/import/staff/\?"))
        page.set_input_files("#f-file", str(template))
        page.locator("#import-form button[type=submit]").click()
        expect(page.locator("#import-result")).to_contain_text("新增 2 条，更新 0 条，失败 0 条")
        page.locator("#import-staff-link").click()
        expect(page).to_have_url(re.compile(r"/head/staff$"))
        assert _staff_total(page) == total + 3

        # 删除 from 人员信息, confirmed
        _search(page, f"{tag}导入一")
        page.locator(".staff-card").first.click()
        expect(page.locator("#person-name")).to_have_text("人员信息")
        expect(page.locator("#btn-edit")).to_be_visible()
        page.screenshot(path=str(screenshots / "head-person-phone.png"), full_page=True)
        asked = []
        page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
        page.locator("#btn-delete").click()
        expect(page).to_have_url(re.compile(r"/head/staff$"))
        expect(page.locator(".alert").first).to_contain_text("已删除 1 条数据")
        assert asked == [f"确定永久删除“{tag}导入一”吗？"]
        assert _staff_total(page) == total + 2

        # 删除本页: the confirmation states the count; cancelling keeps them, confirming deletes them
        _search(page, tag)
        expect(page.locator(".staff-card")).to_have_count(2)
        asked.clear()
        page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        page.locator("#btn-delete-page").click()
        assert asked == ["确定永久删除本页 2 条数据吗？"]
        expect(page.locator(".staff-card")).to_have_count(2)
        page.once("dialog", lambda d: d.accept())
        page.locator("#btn-delete-page").click()
        expect(page.locator(".alert").first).to_contain_text("已删除 2 条数据")
        assert _staff_total(page) == total
        _search(page, tag)
        expect(page.locator(".staff-card")).to_have_count(0)
    finally:
        context.close()


def _pc_login(browser, live_server, username: str):
    context = browser.new_context(base_url=live_server.url, **PC)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form[name=login] [type=submit]").click()
    page.wait_for_load_state("networkidle")
    return context, page


def test_delete_a_person_from_the_detail_page_on_a_pc(browser, live_server, screenshots):
    """A town user adds a person, 编辑 → 取消 returns to the detail, 删除 asks, then the list says 已删除 1 条数据 and the person is gone."""
    rng = random.Random()
    name = "详情删除" + uuid.uuid4().hex[:4]
    context, page = _pc_login(browser, live_server, "town_nansha")
    try:
        page.goto("/staff/add")
        page.fill("#f-name", name)
        page.fill("#f-id_number", _id_number(rng))
        page.fill("#f-phone", "13363463468")
        page.locator("#btn-save").click()
        expect(page).to_have_url(re.compile(r"/staff/\d+$"))
        detail_url = page.url
        page.locator("#btn-edit").click()
        page.locator("#btn-cancel").click()
        expect(page).to_have_url(detail_url)
        page.screenshot(path=str(screenshots / "staff-detail-pc.png"), full_page=True)
        asked = []
        page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        page.locator("#btn-delete").click()
        assert asked == [f"确定永久删除“{name}”吗？"]
        expect(page).to_have_url(detail_url)  # cancelled: still there
        page.once("dialog", lambda d: d.accept())
        page.locator("#btn-delete").click()
        expect(page).to_have_url(re.compile(r"/staff/\?enterprise_id=\d+$"))
        expect(page.locator(".alert").first).to_contain_text("已删除 1 条数据")
        expect(page.locator("#staff-table")).not_to_contain_text(name)
        assert page.goto(detail_url).status == 404
    finally:
        context.close()


def test_enterprise_filter_and_chosen_columns_on_a_pc(browser, live_server, screenshots):
    """主体名称: typing a name leaves the matching enterprises, choosing one lists only its staff;
    a hidden column (显示列) stays hidden after a reload; the ledger fits 1366 px."""
    context, page = _pc_login(browser, live_server, "town_nansha")
    try:
        page.goto("/staff/")
        options = page.locator("#enterprise-filter option")
        names = [t.strip() for t in options.all_inner_texts()]
        assert names[0] == "全部" and len(names) > 2
        wanted = names[2]
        page.fill("#enterprise-filter-text", wanted)
        left = page.locator("#enterprise-filter option:not([disabled])")
        expect(left).to_have_count(2)  # 全部 and the one that matches
        page.select_option("#enterprise-filter", label=wanted)
        expect(page).to_have_url(re.compile(r"enterprise_id=\d+"))  # choosing applies it
        expect(page.locator("#enterprise-filter option:checked")).to_have_text(wanted)
        enterprises = {t.strip() for t in page.locator("#staff-table td[data-col=enterprise]").all_inner_texts()}
        assert enterprises == {wanted}

        expect(page.locator("#staff-table th[data-col=address]")).to_be_hidden()  # hidden until chosen
        page.locator("#column-chooser summary").click()
        page.locator("input[data-col-toggle=address]").check()
        page.locator("input[data-col-toggle=tested_at]").uncheck()
        expect(page.locator("#staff-table th[data-col=address]")).to_be_visible()
        page.reload()
        expect(page.locator("#staff-table th[data-col=tested_at]")).to_be_hidden()
        expect(page.locator("#staff-table td[data-col=tested_at]").first).to_be_hidden()
        expect(page.locator("#staff-table th[data-col=address]")).to_have_text("居住地址")
        expect(page.locator("#staff-table th[data-col=address]")).to_be_visible()
        page.screenshot(path=str(screenshots / "staff-ledger-pc.png"))
    finally:
        context.close()


def test_town_user_gets_cards_on_a_phone(browser, live_server, screenshots):
    """At 390 px the town's 人员管理 is a card per person (name, enterprise, masked phone), not a cut-off table."""
    context = browser.new_context(base_url=live_server.url, **PHONE)
    page = context.new_page()
    try:
        page.goto("/login/")
        page.fill("#username", "town_nansha")
        page.fill("#password", PASSWORD)
        page.locator("form[name=login] [type=submit]").click()
        page.wait_for_load_state("networkidle")
        page.goto("/staff/")
        expect(page.locator("#staff-table")).to_be_hidden()
        cards = page.locator("#staff-cards .staff-card")
        expect(cards.first).to_be_visible()
        expect(cards.first).to_contain_text(re.compile(r"联系电话：1\d\d\*{4}\d{4}"))
        box = cards.first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        page.screenshot(path=str(screenshots / "town-staff-phone.png"), full_page=False)
    finally:
        context.close()
