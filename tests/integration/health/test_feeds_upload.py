"""系统管理 → 健康数据导入: the district admin uploads test or vaccination records as
.csv or .xlsx and sees the counts, the first rejected rows and a workbook of them all."""
from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import openpyxl
import pytest

from tests.conftest import csrf_from
from tests.integration import factories as F
from tests.integration.health.test_feeds_ingest import local, records_of, summary_of

URL = "/feeds/upload/"


def upload(client, kind: str, content: bytes, name: str):
    token = csrf_from(client.get(URL).data)
    return client.post(URL, data={"csrf_token": token, "kind": kind, "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def test_csv_upload_shows_counts_and_bad_rows(app, admin):
    """A CSV with good and bad rows: the good are stored, the page shows the counts and each bad row's reason."""
    good, bad = F.id_number(), F.id_number()[:-1] + "Y"
    content = ("证件号码,采样时间,检测时间,检测结果,检测机构\n"
               f"{good},{local(timedelta(hours=5))},{local(timedelta(hours=4))},阴性,南沙区人民医院\n"
               f"{bad},{local(timedelta(hours=5))},{local(timedelta(hours=4))},阴性,南沙区人民医院\n"
               f"{good},{local(timedelta(hours=9))},,未知,南沙区人民医院\n").encode("gb18030")
    response = upload(admin, "tests", content, "核酸.csv")
    assert response.status_code == 200
    page = text_of(response)
    assert "共 3 条，新保存 1 条" in page and "失败 2 条" in page
    assert re.search(r"<td>3</td><td>[^<]*身份证号码", page) and re.search(r"<td>4</td><td>[^<]*检测结果", page)
    assert len(records_of(app, good)) == 1
    link = re.search(r'id="feeds-upload-errors-link" href="([^"]+)"', page).group(1)
    workbook = admin.get(html.unescape(link))
    assert workbook.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "异常信息" and len(rows) == 3
    assert rows[1][2] == bad and rows[1][-1].startswith("第3行")


def test_xlsx_upload_of_vaccinations(app, admin):
    """An .xlsx of vaccinations (Chinese headers, dates as cells) updates a registered person's doses."""
    enterprise = F.make_enterprise(app, F.tag() + "接种企业")
    number = F.id_number()
    F.make_staff(app, enterprise, F.tag(), number)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["证件号码", "剂次", "接种时间", "疫苗名称", "接种单位"])
    from datetime import date

    sheet.append([number, 1, date(2021, 4, 1), "新冠病毒灭活疫苗（Vero细胞）", "南沙区接种点"])
    sheet.append([number, 2, date(2021, 5, 1), "新冠病毒灭活疫苗（Vero细胞）", "南沙区接种点"])
    out = io.BytesIO()
    book.save(out)
    response = upload(admin, "vaccinations", out.getvalue(), "接种.xlsx")
    assert response.status_code == 200
    assert "新保存 2 条" in text_of(response)
    assert summary_of(app, number)[2] == 2


def test_a_file_refused_whole_stores_nothing(app, admin):
    """A file without the required columns is refused with a Chinese message and nothing is stored."""
    response = upload(admin, "tests", "姓名,电话\n张三,13800000000\n".encode(), "x.csv")
    assert response.status_code == 400
    assert "缺少必需的列" in text_of(response)
    picture = upload(admin, "tests", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "x.csv")
    assert picture.status_code == 400


def test_only_admins_reach_the_upload_page(app, client, auth):
    """A town user is refused the page; the menu of the admin lists it under 系统管理."""
    from tests.conftest import login

    auth.login("town_nansha")
    assert client.get(URL).status_code == 403
    assert "健康数据导入" not in text_of(client.get("/", follow_redirects=True))
    admin = app.test_client()
    login(admin, "admin")
    assert "健康数据导入" in text_of(admin.get("/", follow_redirects=True))
