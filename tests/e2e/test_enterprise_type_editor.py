"""The district admin defines an enterprise type with the page's extra-field editor (real browser)."""
from __future__ import annotations

import json
import re
import sqlite3

from playwright.sync_api import expect


def test_admin_builds_a_type_with_the_field_editor_and_can_register_an_enterprise_of_it(
        page, login, live_server, screenshots):
    """Add rows in the editor (key, label, kind, required, choices), save, then the enterprise form shows the field."""
    login("admin")
    page.goto("/enterprise_types/add")
    expect(page.locator("#fs-enterprise_fields .json-fallback")).to_be_hidden()  # the editor replaced the JSON box
    page.fill("#f-code", "e2e_hazchem")
    page.fill("#f-name", "危化品企业E2E")
    page.select_option("#f-bureau_id", label="卫健局")
    page.fill("#f-categories", "作业人员\n管理人员")

    editor = page.locator("#fs-enterprise_fields")
    editor.locator(".f-add").click()
    editor.locator(".f-add").click()
    rows = editor.locator("tr.extra-row")
    expect(rows).to_have_count(2)
    rows.nth(1).locator(".f-remove").click()
    expect(rows).to_have_count(1)
    row = rows.nth(0)
    expect(row.locator(".f-choices")).to_be_disabled()  # choices only for the 选项 kind
    row.locator(".f-key").fill("hazard_class")
    row.locator(".f-label").fill("危险品类别")
    row.locator(".f-kind").select_option("choice")
    row.locator(".f-required").check()
    row.locator(".f-choices").fill("易燃液体\n腐蚀品")

    staff = page.locator("#fs-staff_fields")
    staff.locator(".f-add").click()
    staff.locator("tr.extra-row .f-key").fill("license_no")
    staff.locator("tr.extra-row .f-label").fill("上岗证号")
    page.screenshot(path=str(screenshots / "enterprise-type-editor.png"), full_page=True)
    page.click("#btn-save")

    expect(page).to_have_url(re.compile(r"/enterprise_types/$"))
    expect(page.locator("tr[data-code=e2e_hazchem]")).to_contain_text("危险品类别")
    with sqlite3.connect(live_server.database) as db:
        (spec,) = db.execute("select spec from enterprise_type where code = 'e2e_hazchem'").fetchone()
    declared = json.loads(spec)
    assert declared["enterprise_fields"] == [{"key": "hazard_class", "label": "危险品类别", "kind": "choice",
                                              "required": True, "choices": ["易燃液体", "腐蚀品"]}]
    assert declared["staff_fields"] == [{"key": "license_no", "label": "上岗证号", "kind": "text", "required": False}]

    page.goto("/enterprises/add?type_code=e2e_hazchem")
    field = page.locator("select[name='extras.hazard_class']")
    expect(field).to_be_visible()
    expect(field.locator("option")).to_have_count(2)


def test_a_bad_field_is_refused_next_to_the_editor_and_the_rows_stay(page, login):
    """A choice field without choices comes back with the Chinese message and the admin's rows still in the editor."""
    login("admin")
    page.goto("/enterprise_types/add")
    page.fill("#f-code", "e2e_bad")
    page.fill("#f-name", "坏类型E2E")
    page.select_option("#f-bureau_id", label="卫健局")
    editor = page.locator("#fs-enterprise_fields")
    editor.locator(".f-add").click()
    editor.locator(".f-key").fill("grade")
    editor.locator(".f-label").fill("等级")
    editor.locator(".f-kind").select_option("choice")
    page.click("#btn-save")

    expect(page.locator("#error-enterprise_fields")).to_contain_text("选择类字段“等级”需要至少一个选项")
    expect(page.locator("#fs-enterprise_fields tr.extra-row .f-key")).to_have_value("grade")
    expect(page.locator("#f-name")).to_have_value("坏类型E2E")
