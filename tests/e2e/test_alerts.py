"""告警设置 to the alert file in the browser (issue 14): the admin sets 三天两检 for 口岸企业
with the 南沙街 town user as recipient, the check and alert jobs run, the town user opens
the link in 站内消息 and the .xlsx lists exactly the non-compliant people of their town."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl
from playwright.sync_api import expect

from tests.e2e.conftest import run_job


def _broken_in(database: Path, town: str) -> tuple[set[str], int]:
    """(names of the non-compliant 口岸企业 people of ``town`` today, all non-compliant 口岸企业 people)."""
    with sqlite3.connect(database) as conn:
        day = conn.execute("SELECT max(day) FROM compliance_result").fetchone()[0]
        rows = conn.execute(
            "SELECT s.name, t.name FROM compliance_result c JOIN staff s ON s.id = c.staff_id "
            "JOIN enterprise e ON e.id = s.enterprise_id JOIN town t ON t.id = e.town_id "
            "JOIN enterprise_type et ON et.id = e.type_id "
            "WHERE c.day = ? AND c.compliant = 0 AND et.code = 'port'", (day,)).fetchall()
    return {name for name, t in rows if t == town}, len(rows)


def test_town_user_gets_exactly_their_towns_noncompliant_people(page, login, live_server, redis_prefix, tmp_path):
    login("admin")
    page.goto("/alert_settings/add")
    page.select_option("#f-enterprise_type", "port")
    page.fill("#f-rule", "三天两检")
    page.fill("#f-recipients", "town_nansha")
    page.locator("#btn-save").click()
    expect(page.locator("body")).to_contain_text("已保存")

    run_job(live_server, redis_prefix, "rules.evaluate")
    run_job(live_server, redis_prefix, "rules.alerts")
    mine, everyone = _broken_in(live_server.database, "南沙街")
    assert mine and everyone > len(mine), "the demo data should have non-compliant people in several towns"

    page.context.clear_cookies()
    login("town_nansha")
    page.goto("/inbox/")
    link = page.locator("a.inbox-attachment").first
    expect(link).to_be_visible()
    expect(page.locator(".inbox-body").first).to_contain_text(f"{len(mine)}人未按规定进行核酸检测")
    with page.expect_download() as download:
        link.click()
    target = tmp_path / "alert.xlsx"
    download.value.save_as(target)
    sheet = openpyxl.load_workbook(target, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["企业名称", "姓名", "手机号码", "负责人姓名", "负责人电话", "最近一次核酸检测时间"]
    assert {r[1] for r in rows[1:]} == mine and len(rows) - 1 == len(mine)
