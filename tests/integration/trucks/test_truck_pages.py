"""The 货车司机 phone pages: the driver's booking pages are public, the scan screen is the
checkpoint's, and every page serves its scripts from the app (no CDN, no inline code)."""
from __future__ import annotations

import re

from tests.conftest import login, logout

SCRIPT_SRC = re.compile(r'<script[^>]*src="([^"]+)"')


def test_booking_page_is_public_with_the_manual_words(client):
    """A driver without an account opens 新增预约 and sees the form and 提交预约."""
    logout(client)
    page = client.get("/driver/book")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for word in ("新增预约", "提交预约", "乘车人信息", "添加乘车人", "车牌号", "预计到达时间", "健康信息"):
        assert word in html
    assert "黄阁镇" in html and ">其他<" not in html  # the 3街6镇 as destinations
    for src in SCRIPT_SRC.findall(html):
        assert src.startswith(("/static/", "/assets/")), src  # served by the app (hashed URLs)
        assert client.get(src).status_code == 200


def test_my_bookings_page_is_public(client):
    """我的预约 asks for the phone and an SMS code."""
    logout(client)
    html = client.get("/driver/mine").get_data(as_text=True)
    assert "获取验证码" in html and "查询我的预约" in html


def test_scan_screen_is_the_checkpoints(client):
    """The checkpoint user's home is the scan screen with the vendored decoder; others are refused."""
    logout(client)
    login(client, "checkpoint")
    home = client.get("/", follow_redirects=True)
    html = home.get_data(as_text=True)
    decoder = [src for src in SCRIPT_SRC.findall(html) if src.endswith("/vendor/jsqr/jsQR.js")]
    assert "扫码核验" in html and decoder and decoder[0].startswith("/assets/")
    for word in ("允许通行", "不予通行", "健康码黄码", "健康码红码", "无核酸证明", "核酸超时", "其他", "查看详情"):
        assert word in html
    assert client.get(decoder[0]).status_code == 200
    token = client.get("/checkpoint/token").get_json()["access_token"]
    assert token.count(".") == 2
    logout(client)
    login(client, "town_nansha")
    assert client.get("/checkpoint/").status_code in (302, 403, 404)
    logout(client)


def test_the_scan_pages_token_ends_with_its_login(app, client):
    """The token the scan screen carries works while its login lasts; once the user logs
    out, a call with it (a copied token, a page left open) is 401 登录已过期，请重新登录,
    not good for the rest of its hour. A token from the API login is not tied to a page."""
    from tests.integration import factories as F

    logout(client)
    login(client, "checkpoint")
    html = client.get("/checkpoint/").get_data(as_text=True)
    page_token = re.search(r'data-token="([^"]+)"', html).group(1)
    renewed = client.get("/checkpoint/token").get_json()["access_token"]
    api = app.test_client()
    api_token = F.api_login(api, "checkpoint").json["access_token"]

    def scan(token):
        return api.post("/api/v1/checkpoint/scan", json={"code": "not-a-code"},
                        headers={"Authorization": f"Bearer {token}"})

    assert scan(page_token).status_code == scan(renewed).status_code == 400  # signed in: the code is refused
    logout(client)
    for token in (page_token, renewed):
        answer = scan(token)
        assert answer.status_code == 401 and answer.json == {"message": "登录已过期，请重新登录"}
    assert scan(api_token).status_code == 400
    assert client.get("/checkpoint/token").status_code in (302, 401)
