"""扫一扫 with a camera: Chromium's fake camera shows a pass's QR code (a Y4M video made
from the code's modules), the scan screen decodes it with the vendored jsQR and shows
the driver; 允许通行 consumes the pass."""
from __future__ import annotations

import json
import random
import urllib.request
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from app.cli.demo import make_id_number
from app.domain.qr_png import matrix
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD

WIDTH, HEIGHT = 640, 480


def _y4m(code: str, path) -> None:
    """A short 4:2:0 video whose frames show the QR of ``code`` black on white."""
    modules = matrix(code)
    scale = (HEIGHT - 40) // (len(modules) + 8)
    side = len(modules) * scale
    left, top = (WIDTH - side) // 2, (HEIGHT - side) // 2
    luma = bytearray(b"\xff" * (WIDTH * HEIGHT))
    for r, row in enumerate(modules):
        for c, dark in enumerate(row):
            if dark:
                for y in range(top + r * scale, top + (r + 1) * scale):
                    start = y * WIDTH + left + c * scale
                    luma[start:start + scale] = b"\x00" * scale
    chroma = b"\x80" * (WIDTH * HEIGHT // 4)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            out.write(frame)


def _book(url: str) -> dict:
    """A booking of a driver of no enterprise, through the public API."""
    arrival = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    body = {"driver_name": "赵大勇", "id_number": make_id_number(random.Random(), "440103"), "phone": "13500135999",
            "plate_number": "粤AF12345", "origin": "东莞市", "destination_town": "黄阁镇",
            "destination_address": "黄阁镇汽车城1号", "expected_arrival": arrival, "passengers": []}
    request = urllib.request.Request(url + "/api/v1/bookings/", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_the_camera_scans_a_pass_and_the_checkpoint_allows_it(browser, live_server, screenshots, tmp_path):
    booking = _book(live_server.url)
    video = tmp_path / "qr.y4m"
    _y4m(booking["code"], video)
    # a browser of its own (the fake camera is a launch option), from the session's Playwright
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        context = chromium.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844},
                                       is_mobile=True, has_touch=True)
        context.grant_permissions(["camera"], origin=live_server.url)
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.goto("/login/")
        page.fill("#username", "checkpoint")
        page.fill("#password", PASSWORD)
        page.locator("form[name=login] [type=submit]").click()
        page.wait_for_load_state("networkidle")
        page.locator("#start-camera").click()
        expect(page.locator("#driver-label")).to_have_text("非南沙企业司机")
        expect(page.locator("#code-input")).to_have_value(booking["code"])
        expect(page.locator("#plate-number")).to_have_text("粤AF12345")
        expect(page.locator("#camera-box")).to_be_hidden()  # the camera stops once a code is read
        page.locator("#allow-btn").click()
        expect(page.locator("#decision-message")).to_have_text("已允许通行")
        page.screenshot(path=str(screenshots / "checkpoint_camera_allowed_390.png"), full_page=True)
        context.close()
    finally:
        chromium.close()
