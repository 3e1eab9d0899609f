"""Spreadsheets in the browser: an enterprise head imports staff on a phone, a town user
exports the staff list on a PC (SPEC §2, manual 2.2)."""
from __future__ import annotations

import os
import random
import re
import sqlite3

import openpyxl
from playwright.sync_api import expect
from stdnum.cn import ric

from app.domain.idkey import id_key
from tests.e2e.conftest import fill_template, log_in_as_head

HEAD_PHONE = "13900000001"  # app/cli/demo.py: the head of one demo enterprise (珠江街)
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


def _id_number(rng: random.Random) -> str:
    body = f"440115{rng.randrange(1960, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def _no_sideways_scroll(page) -> None:
    """The page is no wider than the phone: nothing to scroll sideways to."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), \
        page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def _inside_screen(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375 + 1, (selector, box)


def test_head_imports_staff_from_the_template_on_a_phone(browser, live_server, screenshots, tmp_path):
    """On a phone: 下载模板, fill it (3 good rows, 1 bad ID), 导入 → 新增 3 / 失败 1; again → 更新 3; the failure workbook says why."""
    context = browser.new_context(base_url=live_server.url, accept_downloads=True, **PHONE)
    page = context.new_page()
    try:
        log_in_as_head(page, live_server.database, HEAD_PHONE)
        expect(page).to_have_url(re.compile(r"/head/$"))  # one enterprise: straight to its home
        page.locator("#staff-import-link").click()
        expect(page).to_have_url(re.compile(r"/import/staff/\?enterprise_id=\d+"))
        expect(page.locator("#f-enterprise_id option")).to_have_count(1)  # only the head's own enterprise
        _no_sideways_scroll(page)
        for selector in ("#btn-template", "#f-file", "#btn-import"):
            _inside_screen(page, selector)
        page.screenshot(path=str(screenshots / "head-import-phone.png"), full_page=True)

        with page.expect_download() as download:
            page.locator("#btn-template").click()
        template = tmp_path / "template.xlsx"
        download.value.save_as(template)
        assert download.value.suggested_filename.endswith("人员导入模板.xlsx")

        rng = random.Random()
        good = [_id_number(rng) for _ in range(3)]
        bad = good[0][:-1] + ("0" if good[0][-1] != "0" else "1")  # wrong check digit
        fill_template(template, [
            {"姓名": "手机导入一", "身份证号码": good[0], "手机号码": "13612345670"},
            {"姓名": "手机导入二", "身份证号码": good[1], "手机号码": 13612345671},  # Excel made it a number
            {"姓名": "手机导入三", "身份证号码": good[2].lower(), "手机号码": "13612345672"},
            {"姓名": "号码写错", "身份证号码": bad, "手机号码": "13612345673"},
        ])

        page.set_input_files("#f-file", str(template))
        page.locator("#btn-import").click()
        expect(page.locator("#import-result")).to_contain_text("新增 3 条，更新 0 条，失败 1 条")
        _no_sideways_scroll(page)
        page.screenshot(path=str(screenshots / "head-import-result-phone.png"), full_page=True)

        with page.expect_download() as failures:
            page.locator("#import-errors-link").click()
        failed = tmp_path / "failures.xlsx"
        failures.value.save_as(failed)
        ws = openpyxl.load_workbook(failed).active
        header = [c.value for c in ws[1]]
        assert header[-1] == "异常信息"
        rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
        assert len(rows) == 1 and rows[0][header.index("姓名(必填项)")] == "号码写错"
        assert rows[0][-1] == "列为“身份证号码”，数据格式不正确！（身份证号码校验位不正确）"

        page.set_input_files("#f-file", str(template))
        page.locator("#btn-import").click()
        expect(page.locator("#import-result")).to_contain_text("新增 0 条，更新 3 条，失败 1 条")

        page.locator("#import-staff-link").click()  # back to the head's phone 员工管理
        expect(page).to_have_url(re.compile(r"/head/staff$"))
        _no_sideways_scroll(page)
        for name in ("手机导入一", "手机导入二", "手机导入三"):
            page.fill("#staff-q", name)
            page.locator("#btn-search").click()
            expect(page.locator("#staff-cards")).to_contain_text(name)
        page.fill("#staff-q", "号码写错")
        page.locator("#btn-search").click()
        expect(page.locator(".staff-card")).to_have_count(0)
        page.screenshot(path=str(screenshots / "head-staff-after-import-phone.png"), full_page=True)
    finally:
        context.close()


def test_town_user_exports_only_the_towns_staff_with_ids_as_text(page, login, live_server, screenshots, tmp_path):
    """A town user's 导出全部 holds every person of the town and nobody else; IDs and phones are text cells."""
    login("town_nansha")
    page.goto("/staff/")
    page.screenshot(path=str(screenshots / "town-staff-list-pc.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("#btn-export").click()
    target = tmp_path / "export.xlsx"
    download.value.save_as(target)
    assert re.match(r"人员信息_\d{12}\.xlsx$", download.value.suggested_filename)

    ws = openpyxl.load_workbook(target).active
    header = [c.value for c in ws[1]]
    town, id_col, phone_col = header.index("所属镇街"), header.index("身份证号码"), header.index("手机号码")
    rows = list(ws.iter_rows(min_row=2))
    with sqlite3.connect(live_server.database) as conn:
        expected = conn.execute(
            "SELECT count(*) FROM staff s JOIN enterprise e ON e.id = s.enterprise_id JOIN town t ON t.id = e.town_id "
            "WHERE t.name = '南沙街'").fetchone()[0]
        # ID numbers are stored sealed: other towns' people are told by their ID keys
        others = {r[0] for r in conn.execute(
            "SELECT s.id_key FROM staff s JOIN enterprise e ON e.id = s.enterprise_id JOIN town t ON t.id = e.town_id "
            "WHERE t.name <> '南沙街'")}
    secret = os.environ.get("ID_HASH_KEY") or (live_server.instance / ".id_hash_key").read_text().strip()
    assert expected > 0 and len(rows) == expected
    assert {row[town].value for row in rows} == {"南沙街"}
    for row in rows:
        for cell in (row[id_col], row[phone_col]):
            assert cell.data_type == "s" and cell.number_format == "@", (cell.coordinate, cell.value)
        assert len(row[id_col].value) == 18 and id_key(row[id_col].value, secret) not in others
