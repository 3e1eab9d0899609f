"""货车司机管理 in the browser on phone-sized pages (issue 15, seed 002): a freight
enterprise's driver books and gets a QR; the checkpoint user scans it through the
typed-code fallback, sees 南沙企业司机 with the enterprise and the health labels, denies
with a reason; a second scan says 二维码已过期，请司机重新预约; the outbox holds the head's
SMS and the town's and bureau's messages with the manual's text; the checkpoint summary
job's .xlsx lists the pass."""
from __future__ import annotations

import json
import re
import sqlite3
import urllib.request
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import openpyxl
from playwright.sync_api import expect

from app.cli.demo import DEMO_HEAD_PHONE
from app.cli.demo_trucks import DEMO_DRIVER_ID, DEMO_DRIVER_NAME, DEMO_DRIVER_PHONE, DEMO_FREIGHT_ENTERPRISE
from tests.e2e.conftest import PASSWORD, run_job, sign_in

PHONE = {"width": 390, "height": 844}
LOCAL = ZoneInfo("Asia/Shanghai")
PLATE = "粤E7B321"
DENIED_TEXT = re.compile(
    re.escape(f"{DEMO_FREIGHT_ENTERPRISE}员工{DEMO_DRIVER_NAME}于") + r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    + re.escape("进入南沙区卡口时，因健康码黄码原因不予通行，请知悉。"))


def _last_summary_slot(now: datetime) -> datetime:
    """The latest 12:00 or 18:00 district time at or before ``now`` (naive UTC)."""
    local = now.astimezone(LOCAL)
    slots = [datetime.combine(local.date() - timedelta(days=d), datetime.min.time(), LOCAL).replace(hour=h)
             for d in (1, 0) for h in (12, 18)]
    slot = max(s for s in slots if s <= local)
    return slot.astimezone(timezone.utc).replace(tzinfo=None)


def _sms_code(url: str, phone: str) -> str:
    """The newest login code sent to ``phone``, read in the outbox as the district admin."""
    login = urllib.request.Request(url + "/api/v1/security/login", method="POST", headers={
        "Content-Type": "application/json"}, data=json.dumps(
        {"username": "admin", "password": PASSWORD, "provider": "db"}).encode())
    with urllib.request.urlopen(login, timeout=30) as answer:
        token = json.loads(answer.read())["access_token"]
    outbox = urllib.request.Request(f"{url}/api/v1/outbox/?q={phone}&page_size=10",
                                    headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(outbox, timeout=30) as answer:
        bodies = [row["body"] or "" for row in json.loads(answer.read())["result"]]
    return next(m.group(0) for m in (re.search(r"\d{6}", b) for b in bodies) if m)


def _phone_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    return context, context.new_page()


def test_book_scan_deny_notify_and_summarise(browser, live_server, redis_prefix, screenshots, tmp_path):
    # the transport bureau sets who is told (告警设置 of 预约和通行记录)
    context, page = _phone_page(browser, live_server)
    sign_in(page, "bureau_transport")
    page.goto("/booking_records/")
    page.locator("#btn-recipients").click()
    table = page.locator("#checkpoint_recipients-table")
    expect(table.locator("tr", has_text="南沙街")).to_contain_text("town_nansha")
    table.locator("tr", has_text="区住房和城乡建设局（区交通运输局）").get_by_role("link", name="查看详情").click()
    page.locator("#btn-edit").click()
    page.fill("#f-recipients", "bureau_transport")
    page.locator("#btn-save").click()
    expect(page.locator("body")).to_contain_text("已保存")
    expect(page.locator(".sentinel-detail")).to_contain_text("bureau_transport")
    context.close()

    # the driver books on the phone and gets the QR
    context, page = _phone_page(browser, live_server)
    page.goto("/driver/book")
    arrival = (datetime.now(LOCAL) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    for field, value in (("driver_name", DEMO_DRIVER_NAME), ("id_number", DEMO_DRIVER_ID),
                         ("phone", DEMO_DRIVER_PHONE), ("plate_number", PLATE), ("origin", "佛山市顺德区"),
                         ("destination_address", "南沙街港前大道1号"), ("expected_arrival", arrival)):
        page.fill(f"#f-{field}", value)
    page.select_option("#f-destination_town", "南沙街")
    page.locator("#add-passenger").click()
    page.locator(".passenger-row .p-name").fill("王小明")
    page.locator(".passenger-row .p-id").fill("110101199003071234")  # a wrong check digit
    page.locator("#submit-booking").click()
    expect(page.locator("#book-message")).to_contain_text("第1位乘车人")
    page.locator(".remove-passenger").click()
    page.locator("#submit-booking").click()
    qr = page.locator("#pass-qr")
    expect(qr).to_be_visible()
    expect(qr).to_have_js_property("complete", True)  # (no wait_for_function: the CSP forbids eval)
    assert qr.evaluate("img => img.naturalWidth") > 0
    assert qr.bounding_box()["width"] >= 260
    code = page.locator("#pass-code").inner_text().strip()
    assert code.startswith("P1.") and DEMO_DRIVER_ID not in code
    page.screenshot(path=str(screenshots / "driver_pass_390.png"), full_page=True)
    context.close()

    # the checkpoint scans by the typed code, sees the labels and denies with a reason
    context, page = _phone_page(browser, live_server)
    sign_in(page, "checkpoint")
    expect(page.locator("#checkpoint-title")).to_have_text("扫码核验")
    page.fill("#code-input", code)
    page.locator("#code-submit").click()
    expect(page.locator("#driver-label")).to_have_text("南沙企业司机")
    expect(page.locator("#enterprise-name")).to_have_text(DEMO_FREIGHT_ENTERPRISE)
    expect(page.locator("#test-label")).to_have_text("24小时阴性")
    expect(page.locator("#vaccine-label")).to_have_text("已完成接种三针")
    expect(page.locator("#plate-number")).to_have_text(PLATE)
    page.locator("#show-detail").click()
    expect(page.locator("#booking-detail")).to_contain_text("乘车人信息")
    page.locator("#deny-btn").click()
    page.locator("#deny-confirm").click()  # no reason chosen yet
    expect(page.locator("#decision-message")).to_contain_text("请选择或填写不予通行原因")
    page.locator("#deny-form input[value=健康码黄码]").check()
    page.locator("#deny-confirm").click()
    expect(page.locator("#decision-message")).to_have_text("已不予通行")
    page.screenshot(path=str(screenshots / "checkpoint_denied_390.png"), full_page=True)
    page.locator("#next-scan").click()
    page.fill("#code-input", code)
    page.locator("#code-submit").click()
    expect(page.locator("#scan-message")).to_have_text("二维码已过期，请司机重新预约")
    expect(page.locator("#scan-result")).to_be_hidden()
    context.close()

    # the driver finds the booking again (phone + SMS code): 不予通行
    context, page = _phone_page(browser, live_server)
    page.goto("/driver/mine")
    page.fill("#mine-phone", DEMO_DRIVER_PHONE)
    page.locator("#mine-get-code").click()
    expect(page.locator("#mine-message")).to_have_text("验证码已发送")
    page.fill("#mine-code", _sms_code(live_server.url, DEMO_DRIVER_PHONE))
    page.locator("#mine-submit").click()
    card = page.locator(".booking-card", has_text=PLATE)
    expect(card.locator(".state")).to_have_text("不予通行")
    expect(page.locator(".booking-card[data-state=pending]").first).to_be_visible()  # the demo's 待通行 booking
    context.close()

    # the outbox: the head's SMS, the town's and the bureau's messages, the manual's text
    context, page = _phone_page(browser, live_server)
    sign_in(page, "admin")
    page.goto("/outbox/?size=100")
    rows = page.locator("#outbox-table tbody tr").all_inner_texts()
    denied = [r for r in rows if DENIED_TEXT.search(r)]
    assert len(denied) >= 3, rows[:10]
    assert any("短信" in r or "sms" in r.lower() for r in denied)
    assert any(DEMO_HEAD_PHONE[-4:] in r for r in denied)  # the head's phone (masked in the list)
    context.close()

    # the 12:00 / 18:00 summary: the decision falls in the period the job reports
    end = _last_summary_slot(datetime.now(timezone.utc))
    with sqlite3.connect(live_server.database) as conn:
        conn.execute("UPDATE booking_pass SET decided_at = ? WHERE reason = '健康码黄码' AND booking_id = "
                     "(SELECT id FROM booking WHERE plate_number = ?)",
                     ((end - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S.%f"), PLATE))
    run_job(live_server, redis_prefix, "checkpoint.summary")
    context, page = _phone_page(browser, live_server)
    sign_in(page, "taskforce")
    page.goto("/inbox/")
    expect(page.locator(".inbox-body").first).to_contain_text("不准予通行")
    with page.expect_download() as download:
        page.locator("a.inbox-attachment").first.click()
    target = tmp_path / "summary.xlsx"
    download.value.save_as(target)
    sheet = [list(r) for r in openpyxl.load_workbook(target, read_only=True).worksheets[0].iter_rows(values_only=True)]
    assert sheet[0] == ["车牌号", "司机姓名", "司机联系方式", "公司名称", "通行时间", "不通过原因"]
    assert any(r[0] == PLATE and r[1] == DEMO_DRIVER_NAME and r[5] == "健康码黄码" for r in sheet[1:]), sheet
    context.close()
