"""The staff ledger as its users work it (issue 13): the columns and labels of seed 001
§2.3 on the page and in the export, the 主体名称 filter (page and API, scoped), keyword
search over enterprise names, one masking rule (lists masked, details full and audited,
the 未匹配 list full for the roles that registered the people, audited), deleting one
person from their page, and the enterprise head's phone 员工管理 (seed 000 §2.3–2.4)."""
from __future__ import annotations

import html
import re

import pytest

from app.domain.identity import mask_id, mask_phone
from app.security import roles as R
from models.staff import Staff
from tests.conftest import csrf_from, login
from tests.integration import factories as F

ROW = re.compile(r'class="row-select" value="(\d+)"')
CARD = re.compile(r'class="list-group-item staff-card" data-id="(\d+)"')
LEDGER = ["企业名称", "姓名", "所属镇街", "手机号码", "身份证号码", "负责人姓名", "负责人电话", "居住地址",
          "最近一次核酸检测结果", "最近一次核酸检测时间", "第一针疫苗接种时间", "第二针疫苗接种时间", "第三针疫苗接种时间"]


def text(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    return html.unescape(response.get_data(as_text=True))


def row_ids(response) -> list[int]:
    return sorted(int(i) for i in ROW.findall(text(response)))


def as_user(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def head_client(app, enterprise_ids: list[int], phone: str):
    username = F.make_user(app, f"head_{phone}", R.ENTERPRISE_HEAD, phone_number=phone)
    return as_user(app, username)


@pytest.fixture
def towns(app):
    """Two enterprises whose names share a word, one in 南沙街 and one in 黄阁镇, two people each."""
    tag = F.tag()
    home = F.make_enterprise(app, f"{tag}龙口岸企业", town="南沙街", type_code="port")
    away = F.make_enterprise(app, f"{tag}远口岸企业", town="黄阁镇", type_code="port")
    people = {
        home: [F.make_staff(app, home, f"林{tag}{n}", phone=F.phone()) for n in range(2)],
        away: [F.make_staff(app, away, f"李{tag}{n}", phone=F.phone()) for n in range(2)],
    }
    return {"tag": tag, "home": home, "away": away, "people": people}


# --- the ledger's columns and labels --------------------------------------------------

def test_ledger_and_export_carry_the_manuals_columns(app, towns):
    """The list's header is seed 001 §2.3 word for word (13 columns + 操作 with 查看详情/查看核酸/疫苗接种); the export starts with the same labels."""
    town = as_user(app, "town_nansha")
    page = text(town.get(f"/staff/?enterprise_id={towns['home']}"))
    header = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    assert re.findall(r'<th data-col="\w+">([^<]+)</th>', header) == LEDGER
    assert header.rstrip().endswith("<th>操作</th>\n      </tr>")
    pk = towns["people"][towns["home"]][0]
    for label, anchor in (("查看详情", ""), ("查看核酸", "?tests=1#test-history"), ("疫苗接种", "#health-vaccines")):
        assert f'href="/staff/{pk}{anchor}" class="act-' in page and label in page
    assert 'id="test-history" open' in text(town.get(f"/staff/{pk}?tests=1"))  # 查看核酸: the 7 days, unfolded
    for key, label in (("head_name", "负责人姓名"), ("address", "居住地址")):  # chosen columns: every one offered
        assert f'data-col-toggle="{key}" checked> {label}' in page
    rows = F.read_xlsx(town.get(f"/staff/export?enterprise_id={towns['home']}").data)
    assert rows[0][:13] == LEDGER
    assert {r[1] for r in rows[1:]} == {f"林{towns['tag']}0", f"林{towns['tag']}1"}
    assert all(r[2] == "南沙街" for r in rows[1:])


# --- 主体名称 and the keyword -----------------------------------------------------------

def test_enterprise_filter_on_the_page_is_scoped(app, towns):
    """主体名称 offers 全部 and the enterprises in scope only; choosing one lists its staff; an enterprise outside the scope is a 404."""
    town = as_user(app, "town_nansha")
    everyone = text(town.get("/staff/"))
    assert '<option value="">全部</option>' in everyone
    assert f'<option value="{towns["home"]}" >' in everyone
    assert f'value="{towns["away"]}"' not in everyone and "远口岸企业" not in everyone
    chosen = town.get(f"/staff/?enterprise_id={towns['home']}&size=50")
    assert row_ids(chosen) == sorted(towns["people"][towns["home"]])
    assert f'<option value="{towns["home"]}" selected>' in text(chosen)
    assert town.get(f"/staff/?enterprise_id={towns['away']}").status_code == 404
    assert town.get(f"/staff/export?enterprise_id={towns['away']}").status_code == 404
    admin = as_user(app, "admin")
    assert row_ids(admin.get(f"/staff/?enterprise_id={towns['away']}")) == sorted(towns["people"][towns["away"]])


def test_enterprise_filter_in_the_api_keeps_the_scope(client, towns):
    """GET /api/v1/staff/ narrows to one enterprise (plain and rison); another town's enterprise gives nothing, never its rows."""
    token = F.api_login(client, "town_nansha").json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    home, away = towns["home"], towns["away"]
    plain = client.get(f"/api/v1/staff/?enterprise_id={home}", headers=headers).json
    rison = client.get(f"/api/v1/staff/?q=(filters:!((col:enterprise_id,opr:eq,value:{home})))", headers=headers).json
    assert sorted(plain["ids"]) == sorted(rison["ids"]) == sorted(towns["people"][home])
    assert {r["enterprise_name"] for r in plain["result"]} == {f"{towns['tag']}龙口岸企业"}
    outside = client.get(f"/api/v1/staff/?enterprise_id={away}", headers=headers)
    assert outside.status_code == 200 and outside.json["count"] == 0 and outside.json["result"] == []
    everything = client.get("/api/v1/staff/?page_size=100", headers=headers).json  # still compatible
    assert everything["count"] >= 2 and not set(towns["people"][away]) & set(everything["ids"])


def test_keyword_matches_enterprise_names_within_scope(app, client, towns):
    """"口岸" (with the test's tag) finds the staff of enterprises whose name holds it — in scope only, page, API and export alike."""
    keyword = f"{towns['tag']}龙口岸"
    town = as_user(app, "town_nansha")
    assert row_ids(town.get("/staff/", query_string={"q": keyword, "size": 50})) == sorted(towns["people"][towns["home"]])
    wide = f"{towns['tag']}"  # both enterprises' names hold it; the town sees its own only
    assert row_ids(town.get("/staff/", query_string={"q": wide + "远口岸"})) == []
    admin = as_user(app, "admin")
    both = sorted(towns["people"][towns["home"]] + towns["people"][towns["away"]])
    assert row_ids(admin.get("/staff/", query_string={"q": "口岸企业", "size": 100, "enterprise_id": towns["away"]})) \
        == sorted(towns["people"][towns["away"]])
    token = F.api_login(client, "admin").json["access_token"]
    found = client.get("/api/v1/staff/", query_string={"q": wide + "远口岸"},
                       headers={"Authorization": f"Bearer {token}"}).json
    assert sorted(found["ids"]) == sorted(towns["people"][towns["away"]])
    exported = F.read_xlsx(admin.get("/staff/export", query_string={"q": keyword}).data)
    assert len(exported) == 3 and {r[0] for r in exported[1:]} == {f"{towns['tag']}龙口岸企业"}
    assert len(both) == 4
    percent = row_ids(admin.get("/staff/", query_string={"q": "%"}))  # a LIKE wildcard is a plain character
    assert not set(both) & set(percent)


# --- masking ----------------------------------------------------------------------------

def test_lists_mask_and_the_detail_shows_full_numbers_audited(app, towns):
    """ID numbers and phones are masked in the list (the head's phone too); the detail shows them in full and the read is audited."""
    number, phone = F.id_number(), F.phone()
    pk = F.make_staff(app, towns["home"], f"全{towns['tag']}", number, phone=phone)
    town = as_user(app, "town_nansha")
    listed = text(town.get(f"/staff/?enterprise_id={towns['home']}"))
    assert number not in listed and phone not in listed
    assert mask_id(number) in listed and mask_phone(phone) in listed
    head_phone = F.enterprise_row(app, towns["home"])[3]
    assert head_phone not in listed and mask_phone(head_phone) in listed
    since = F.last_audit_id(app)
    detail = text(town.get(f"/staff/{pk}"))
    assert f'<td id="id-number">{number}</td>' in detail and f'<td id="phone">{phone}</td>' in detail
    reads = F.audits(app, "view", "Staff", since)
    assert [(a["username"], a["entity_id"]) for a in reads] == [("town_nansha", str(pk))]


def test_unmatched_list_shows_full_ids_to_the_registering_roles_and_audits(app, towns):
    """On 未匹配 the town that registered the people reads their full ID numbers, with an audit row naming them;
    the admin (not a registering role) and every other list see them masked, and write no such row."""
    numbers = {pk: F.staff_row(app, pk)[3] for pk in towns["people"][towns["home"]]}
    town = as_user(app, "town_nansha")
    since = F.last_audit_id(app)
    unmatched = text(town.get(f"/staff/?enterprise_id={towns['home']}&bucket=unmatched"))
    assert "核查证件号码是否正确" in unmatched
    for number in numbers.values():
        assert f'class="id-number">{number}</td>' in unmatched
    reads = F.audits(app, "view", "Staff", since)
    assert len(reads) == 1 and reads[0]["username"] == "town_nansha" and reads[0]["rows"] == 2
    assert sorted(reads[0]["after"]["ids"]) == sorted(numbers) and "未匹配" in reads[0]["detail"]
    assert not any(n in str(reads[0]) for n in numbers.values())  # the audit row itself stays masked

    since = F.last_audit_id(app)
    everyone = text(town.get(f"/staff/?enterprise_id={towns['home']}"))
    admin_view = text(as_user(app, "admin").get(f"/staff/?enterprise_id={towns['home']}&bucket=unmatched"))
    for number in numbers.values():
        assert number not in everyone and number not in admin_view and mask_id(number) in admin_view
    assert F.audits(app, "view", "Staff", since) == []


def test_the_heads_unmatched_list_shows_full_ids_audited(app):
    """The head's phone 未匹配 list shows the full ID numbers they typed (audited); their 员工管理 list masks phones."""
    phone = F.phone()
    mine = F.make_enterprise(app, F.tag() + "负责人企业", head_phone=phone)
    number, mobile = F.id_number(), F.phone()
    pk = F.make_staff(app, mine, "未匹配甲", number, phone=mobile)
    head = head_client(app, [mine], phone)
    since = F.last_audit_id(app)
    listing = text(head.get("/head/people?bucket=unmatched"))
    assert number in listing
    reads = F.audits(app, "view", "Staff", since)
    assert len(reads) == 1 and reads[0]["after"] == {"ids": [pk]}
    managed = text(head.get("/head/staff"))
    assert mobile not in managed and mask_phone(mobile) in managed and number not in managed


# --- deleting one person ---------------------------------------------------------------

def test_delete_from_the_detail_page(app, towns):
    """The detail page has 删除 with a confirmation; deleting goes back to the enterprise's list with a message;
    a person of another town cannot be deleted that way; the edit page has 取消."""
    town = as_user(app, "town_nansha")
    pk = towns["people"][towns["home"]][0]
    detail = text(town.get(f"/staff/{pk}"))
    assert 'id="btn-delete"' in detail and "确定永久删除“" in detail and 'class="sentinel-inline confirm-delete"' in detail
    edit = text(town.get(f"/staff/{pk}/edit"))
    assert f'id="btn-cancel" href="/staff/{pk}"' in edit
    token = csrf_from(detail)
    back = f"/staff/?enterprise_id={towns['home']}"
    answer = town.post("/staff/delete", data={"csrf_token": token, "ids": pk, "back": back})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(back)
    assert "已删除 1 条数据" in text(town.get(back))
    assert F.staff_row(app, pk) is None
    stranger = towns["people"][towns["away"]][0]
    town.post("/staff/delete", data={"csrf_token": token, "ids": stranger, "back": back})
    assert F.staff_row(app, stranger) is not None


# --- the head's phone 员工管理 ------------------------------------------------------------

def test_heads_phone_staff_management(app):
    """员工管理 on the head's home opens /head/staff: "X，工作人员：N", 10 per page, search, the four buttons, 删除本页 with the count."""
    phone = F.phone()
    tag = F.tag()
    mine = F.make_enterprise(app, tag + "龙口岸企业", head_phone=phone)
    people = [F.make_staff(app, mine, f"{tag}员{n:02d}") for n in range(12)]
    head = head_client(app, [mine], phone)
    home = text(head.get("/head/"))
    assert 'id="staff-link"\n     href="/head/staff"' in home
    for label in ("(n≤24小时)", "(24<n≤48小时)", "(48<n≤72小时)", "(n>72小时)"):
        assert label in home
    assert "核酸检测统计以核酸采样时间为准。系统核酸数据源为广州市内近14天的核酸检测数据。" in home

    first = text(head.get("/head/staff"))
    assert f"{tag}龙口岸企业，工作人员：12" in first
    assert len(CARD.findall(first)) == 10 and "10条/页" in first
    for button in ("下载模板", "导入", "新增", "删除本页"):
        assert f">{button}</" in first
    assert "确定永久删除本页 10 条数据吗？" in first
    second = text(head.get("/head/staff?page=2"))
    assert len(CARD.findall(second)) == 2 and "确定永久删除本页 2 条数据吗？" in second
    found = text(head.get("/head/staff", query_string={"q": f"{tag}员03"}))
    assert [int(i) for i in CARD.findall(found)] == [people[3]] and f"{tag}龙口岸企业，工作人员：12" in found

    person = text(head.get(f"/head/people/{people[3]}?from=staff"))
    assert "人员信息" in person and 'id="btn-edit"' in person and 'id="btn-delete"' in person
    assert 'id="back-list">' in person and 'href="/head/staff" id="back-list"' in person
    ids = [int(i) for i in CARD.findall(second)]
    answer = head.post("/staff/delete", data={"csrf_token": csrf_from(second), "ids": ids, "back": "/head/staff"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/head/staff")
    after = text(head.get("/head/staff"))
    assert "已删除 2 条数据" in after and f"工作人员：10" in after
    assert F.count(app, Staff, Staff.enterprise_id == mine) == 10


def test_head_adds_from_the_phone_and_comes_back_to_the_list(app):
    """新增 from the phone list returns to it after 确定; 取消 leads back too; a foreign back address is refused."""
    phone = F.phone()
    mine = F.make_enterprise(app, F.tag() + "新增企业", head_phone=phone)
    head = head_client(app, [mine], phone)
    form = text(head.get(f"/staff/add?enterprise_id={mine}&back=/head/staff"))
    assert 'id="btn-cancel" href="/head/staff"' in form and 'name="back" value="/head/staff"' in form
    data = {"csrf_token": csrf_from(form), "enterprise_id": mine, "name": "林卫", "id_type": "居民身份证",
            "id_number": F.id_number(), "phone": "13363463467", "back": "/head/staff"}
    answer = head.post("/staff/add", data=data)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/head/staff")
    assert "林卫" in text(head.get("/head/staff"))
    evil = head.post("/staff/add", data={**data, "id_number": F.id_number(), "back": "https://evil.example/"})
    assert "evil.example" not in evil.headers["Location"]
