"""The booking's detail pages as a reader sees them: the phone's /m/bookings/<id> and the
PC's /booking_records/<id> (passengers, health images, long values, the tabs)."""
from __future__ import annotations

import io
import json
import re

from tests.conftest import login, logout
from tests.integration import factories as F
from tests.integration.drivers import helpers as H

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def booked_with_an_image(app, **over) -> dict:
    values = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)
              for k, v in H.body(destination_town="南沙街", **over).items() if v is not None}
    values["images"] = [(io.BytesIO(PNG), "health.png")]
    answer = F.client_at(app).post("/api/v1/bookings/", data=values, content_type="multipart/form-data")
    assert answer.status_code == 201, answer.json
    return answer.json


def test_the_phone_detail_separates_name_id_and_phone_and_shows_the_health_images(app, client):
    """/m/bookings/<id>: each passenger's name on its own line, ID and phone after it (no "·"
    left over when there is no phone), and the 健康信息 images the PC detail shows."""
    alone, with_phone = F.id_number(), F.id_number()
    phone = F.phone()
    booking = booked_with_an_image(app, passengers=[{"name": "李四", "id_number": alone},
                                                    {"name": "王五", "id_number": with_phone, "phone": phone}])
    logout(client)
    login(client, "town_nansha")
    try:
        page = client.get(f"/m/bookings/{booking['id']}").get_data(as_text=True)
        items = re.findall(r'<div class="list-group-item passenger">(.*?)</div>\s*</div>', page, re.S)
        texts = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "|", item)).strip("| ") for item in items]
        assert texts[0].split("|")[0] == "李四" and texts[0].endswith(alone), texts
        assert "·" not in texts[0], texts
        assert texts[1].split("|")[0] == "王五" and texts[1].endswith(f"{with_phone} · {phone}"), texts
        images = re.findall(r'<img class="img-thumbnail booking-image"[^>]*src="([^"]+)"', page)
        assert len(images) == 1, page
        shown = client.get(images[0])
        assert shown.status_code == 200 and shown.data == PNG
        assert "未上传健康信息" not in page
    finally:
        logout(client)


def test_the_pc_detail_tabs_switch_panes(app, client):
    """/booking_records/<id>: 基本信息 and 乘车人信息 are tabs, each showing its own pane."""
    booking = booked_with_an_image(app)
    logout(client)
    login(client, "town_nansha")
    try:
        page = client.get(f"/booking_records/{booking['id']}").get_data(as_text=True)
    finally:
        logout(client)
    assert re.search(r'<a href="#passengers" id="tab-passengers"[^>]*data-toggle="tab"', page)
    assert re.search(r'<section id="basic" class="tab-pane active"', page)
    assert re.search(r'<section id="passengers" class="tab-pane"', page)
    assert re.search(r'<img class="img-thumbnail booking-image"', page)
