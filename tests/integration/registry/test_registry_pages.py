"""The registry pages (PC and phone): lists with search, page sizes and masking,
forms with Chinese field errors, details, bulk delete and 导出全部."""
from __future__ import annotations

import html
import json
import re

import pytest

from models.enterprises import Enterprise
from models.staff import Staff
from tests.conftest import csrf_from
from tests.integration import factories as F

ROW = re.compile(r'class="row-select" value="(\d+)"')


@pytest.fixture
def admin_page(client, auth):
    auth.login("admin")
    return client


@pytest.fixture
def enterprise(app):
    return F.make_enterprise(app, F.tag() + "页面企业", town="南沙街", type_code="port")


def page_text(response, status: int = 200) -> str:
    assert response.status_code == status
    return html.unescape(response.get_data(as_text=True))


def row_ids(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


def token(client) -> str:
    return csrf_from(client.get("/staff/").data)


# --- lists -----------------------------------------------------------------------

@pytest.mark.parametrize("size", [10, 20, 50, 100])
def test_page_sizes(admin_page, size):
    """The list shows 10, 20, 50 or 100 rows per page as chosen, and offers those four sizes."""
    response = admin_page.get(f"/staff/?size={size}")
    assert len(row_ids(response)) == size
    text = page_text(response)
    for offered in (10, 20, 50, 100):
        assert f'<option value="{offered}"' in text
    assert re.search(rf'<option value="{size}"\s+selected', text)


@pytest.mark.parametrize("size", ["7", "1000", "abc"])
def test_unknown_page_size_falls_back_to_20(admin_page, size):
    """A page size that is not offered shows the default 20 rows."""
    assert len(row_ids(admin_page.get(f"/staff/?size={size}"))) == 20


def test_paging_walks_through_a_filter(app, admin_page, enterprise):
    """The next page continues where the first stopped, keeping the filter."""
    tag = F.tag()
    ids = [F.make_staff(app, enterprise, f"{tag}{n}") for n in range(12)]
    first = admin_page.get(f"/staff/?q={tag}&size=10")
    second = admin_page.get(f"/staff/?q={tag}&size=10&page=2")
    assert row_ids(first) + row_ids(second) == ids[::-1]
    assert "共 12 条" in page_text(first) and "1 / 2" in page_text(first)


def test_list_masks_ids_and_detail_shows_the_full_number(app, admin_page, enterprise):
    """The list shows 440115********765X-style numbers; the person's detail page shows the full number."""
    number = F.id_number()
    pk = F.make_staff(app, enterprise, "掩码页", number)
    listed = page_text(admin_page.get(f"/staff/?enterprise_id={enterprise}"))
    assert number[:6] + "********" + number[-4:] in listed and number not in listed
    detail = page_text(admin_page.get(f"/staff/{pk}"))
    assert f'<td id="id-number">{number}</td>' in detail


@pytest.mark.parametrize("query", ["name", "id", "phone"])
def test_search_by_name_id_or_phone(app, admin_page, enterprise, query):
    """The keyword finds a person by part of the name, the full ID number (any case), or the full phone."""
    tag = F.tag()
    number, phone = F.id_number("440116"), F.phone()
    pk = F.make_staff(app, enterprise, f"{tag}查找", number, phone=phone)
    other = F.make_staff(app, enterprise, f"{tag}旁人")
    q = {"name": f"{tag}查", "id": number.lower(), "phone": phone}[query]
    found = row_ids(admin_page.get("/staff/", query_string={"q": q, "size": 100}))
    assert pk in found and other not in found


# --- forms -----------------------------------------------------------------------

def test_add_edit_enterprise_through_the_form(app, admin_page):
    """An enterprise added and edited through the form is stored and shown."""
    name = F.tag() + "表单企业"
    form = {"csrf_token": token(admin_page), "name": name, "type_code": "port", "town": "南沙街", "grid": "",
            "address": "广州市南沙区表单路1号", "head_name": "王五", "head_phone": "13900000001", "credit_code": "",
            "extras.port_name": "南沙港"}
    response = admin_page.post("/enterprises/add", data=form)
    assert response.status_code == 302
    pk = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert F.enterprise_row(app, pk)[0] == name
    response = admin_page.post(f"/enterprises/{pk}/edit", data=dict(form, address="广州市南沙区表单路2号"))
    assert response.status_code == 302
    assert F.enterprise_row(app, pk)[4] == "广州市南沙区表单路2号"
    assert "广州市南沙区表单路2号" in page_text(admin_page.get(f"/enterprises/{pk}"))


def test_add_edit_staff_through_the_form(app, admin_page, enterprise):
    """A person added and edited through the form is stored normalised."""
    number = F.id_number()
    form = {"csrf_token": token(admin_page), "enterprise_id": enterprise, "name": "表单人", "id_type": "居民身份证",
            "id_number": number.lower() + " ", "phone": "13576266263", "category": "管理人员", "address": ""}
    response = admin_page.post("/staff/add", data=form)
    assert response.status_code == 302
    pk = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert F.staff_row(app, pk) == (enterprise, "表单人", "13576266263", number)
    response = admin_page.post(f"/staff/{pk}/edit", data=dict(form, phone="13900000008"))
    assert response.status_code == 302 and F.staff_row(app, pk)[2] == "13900000008"


def test_bad_staff_form_shows_chinese_field_errors_and_saves_nothing(app, admin_page, enterprise):
    """A wrong ID number and phone are shown beside their fields in Chinese; nothing is saved."""
    form = {"csrf_token": token(admin_page), "enterprise_id": enterprise, "name": "错人", "id_type": "居民身份证",
            "id_number": "440115199007237654", "phone": "1234"}
    text = page_text(admin_page.post("/staff/add", data=form))
    errors = re.findall(r'class="help-block field-error">([^<]+)<', text)
    assert any("校验位" in e for e in errors) and any("手机号码" in e for e in errors)
    assert 'value="440115199007237654"' in text  # the typed values stay in the form
    assert F.count(app, Staff, Staff.enterprise_id == enterprise) == 0


def test_duplicate_person_through_the_form_is_refused(app, admin_page, enterprise):
    """Adding the same ID number twice to one enterprise shows the manual's message."""
    number = F.id_number()
    F.make_staff(app, enterprise, "先来", number)
    form = {"csrf_token": token(admin_page), "enterprise_id": enterprise, "name": "后到", "id_type": "居民身份证",
            "id_number": number, "phone": "13576266263"}
    assert "同一企业同一身份证号码的人员已存在" in page_text(admin_page.post("/staff/add", data=form))
    assert F.count(app, Staff, Staff.enterprise_id == enterprise) == 1


def test_bad_enterprise_form_shows_chinese_field_errors(app, admin_page):
    """An enterprise form without name and with a bad phone shows the errors in Chinese and saves nothing."""
    form = {"csrf_token": token(admin_page), "name": "", "type_code": "port", "town": "南沙街",
            "address": "地址", "head_name": "王五", "head_phone": "555"}
    text = page_text(admin_page.post("/enterprises/add", data=form))
    errors = re.findall(r'class="help-block field-error">([^<]+)<', text)
    assert len(errors) >= 2 and all(re.search(r"[\u4e00-\u9fff]", e) for e in errors)


def test_form_without_csrf_token_is_refused(app, admin_page, enterprise):
    """A form posted from elsewhere (no CSRF token) is refused with a Chinese message."""
    form = {"enterprise_id": enterprise, "name": "跨站", "id_number": F.id_number(), "phone": "13576266263"}
    response = admin_page.post("/staff/add", data=form)
    assert "页面已过期" in page_text(response, 400)
    assert F.count(app, Staff, Staff.enterprise_id == enterprise) == 0


# --- bulk delete and export ------------------------------------------------------

def test_bulk_delete_of_selected_staff(app, admin_page, enterprise):
    """Deleting the selected people removes exactly those and says how many."""
    tag = F.tag()
    ids = [F.make_staff(app, enterprise, f"{tag}{n}") for n in range(3)]
    response = admin_page.post("/staff/delete", data={"csrf_token": token(admin_page), "ids": ids[:2],
                                                      "back": f"/staff/?enterprise_id={enterprise}"},
                               follow_redirects=True)
    assert "已删除 2 条数据" in page_text(response)
    assert [F.staff_row(app, i) is None for i in ids] == [True, True, False]


def test_bulk_delete_of_enterprises_takes_their_staff(app, admin_page):
    """Deleting selected enterprises removes them and their staff."""
    tag = F.tag()
    companies = [F.make_enterprise(app, f"{tag}{n}") for n in range(2)]
    people = [F.make_staff(app, c, "随删") for c in companies]
    response = admin_page.post("/enterprises/delete", data={"csrf_token": token(admin_page), "ids": companies},
                               follow_redirects=True)
    assert "已删除 2 条数据" in page_text(response)
    assert F.count(app, Enterprise, Enterprise.id.in_(companies)) == 0
    assert all(F.staff_row(app, p) is None for p in people)


def test_bulk_delete_confirmation_states_the_count(admin_page):
    """The delete button asks 确定永久删除本页 N 条数据吗？ before anything is deleted."""
    text = page_text(admin_page.get("/staff/"))
    script = text[text.index("var text"):]
    literal = re.search(r'everyOnPage \? ("[^"]*")', script).group(1)
    assert json.loads(literal) == "确定永久删除本页 __N__ 条数据吗？"
    assert "text.replace('__N__', chosen.length)" in script


def test_export_button_carries_the_current_filter(app, admin_page, enterprise):
    """导出全部 on a filtered list downloads exactly the rows of that filter."""
    tag = F.tag()
    F.make_staff(app, enterprise, f"{tag}甲")
    F.make_staff(app, enterprise, f"{tag}乙")
    F.make_staff(app, enterprise, "其他人")
    text = page_text(admin_page.get(f"/staff/?q={tag}&enterprise_id={enterprise}"))
    href = re.search(r'id="btn-export" href="([^"]+)"', text).group(1)
    assert "导出全部" in text and href.startswith("/staff/export?")
    exported = F.read_xlsx(admin_page.get(href).data)
    assert sorted(r[1] for r in exported[1:]) == [f"{tag}乙", f"{tag}甲"]

    name = F.enterprise_row(app, enterprise)[0]
    text = page_text(admin_page.get("/enterprises/", query_string={"q": name}))
    href = re.search(r'id="btn-export" href="([^"]+)"', text).group(1)
    assert href.startswith("/enterprises/export?")
    assert [r[0] for r in F.read_xlsx(admin_page.get(href).data)[1:]] == [name]


def test_edit_form_keeps_a_category_the_type_no_longer_offers_and_the_save_says_why(app, client, auth, enterprise):
    """A person whose 人员类别 their enterprise's (changed) type no longer offers: the edit
    form shows that value chosen, marked 已不在可选范围内, and saving it is refused with
    the allowed values; before, the select fell back to blank and 确定 wiped the category
    without a word."""
    pk = F.make_staff(app, enterprise, F.tag(), category="高风险人员", worker_kind="引航员")
    admin = auth.token("admin")
    assert client.put(f"/api/v1/enterprise/{enterprise}", json={"type_code": "medical"},
                      headers=admin).status_code == 200
    auth.login("admin")
    form = page_text(client.get(f"/staff/{pk}/edit"))
    category = form.split('name="category"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]*)" selected', category) == ["高风险人员"]
    assert "高风险人员（已不在可选范围内）" in category
    fields = dict(re.findall(r'<input class="form-control" id="f-[^"]+" name="([^"]+)" value="([^"]*)"', form))
    saved = client.post(f"/staff/{pk}/edit", data={
        "csrf_token": csrf_from(client.get(f"/staff/{pk}/edit").data), "enterprise_id": enterprise,
        "id_type": "居民身份证", "category": "高风险人员", **fields})
    assert "“人员类别”只能是：发热门诊人员、医务人员、后勤人员" in page_text(saved)
    assert F.in_db(app, lambda s: s.get(Staff, pk).category) == "高风险人员"
