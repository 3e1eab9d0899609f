"""Row scope holds on every path (SPEC §1): a town user, a bureau user and an enterprise
head never see or change a row outside their scope — not in lists, details, edit
forms, edits, deletes, searches, exports, nor through the REST API.

Each test builds its own enterprises and staff (unique names): the "world" below.
Foreign rows answer 404 (or 403 where the role may not write at all) and the database
shows nothing foreign changed.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.security import roles as R
from models.enterprises import Enterprise
from models.staff import Staff
from tests.conftest import csrf_from
from tests.integration import factories as F

# key → (town, type code, headed by the test's enterprise head)
ENTERPRISES = {
    "nansha_cold": ("南沙街", "cold_chain", False),
    "huangge_freight": ("黄阁镇", "freight", False),
    "huangge_port": ("黄阁镇", "port", False),
    "head_mine": ("南沙街", "port", True),
    "nansha_other": ("南沙街", "cold_chain", False),
}
# actor → the enterprises of the world it may see; every other one is foreign.
VISIBLE = {
    "town_nansha": {"nansha_cold", "head_mine", "nansha_other"},
    "bureau_port": {"huangge_port", "head_mine"},
    "head": {"head_mine"},
}
ACTORS = list(VISIBLE)
# Whether the actor's role may write enterprises at all (an enterprise head may not: 403).
WRITES_ENTERPRISES = {"town_nansha": True, "bureau_port": True, "head": False}
# An enterprise payload outside the actor's reach: another town, or an unsupervised type.
FOREIGN_PLACE = {
    "town_nansha": {"town": "黄阁镇", "type_code": "port"},
    "bureau_port": {"town": "南沙街", "type_code": "freight"},
    "head": {"town": "南沙街", "type_code": "port"},
}


@dataclass
class World:
    tag: str
    enterprises: dict[str, int]
    staff: dict[str, int]
    numbers: dict[str, str]

    def name(self, key: str) -> str:
        return f"{self.tag}{key}"

    def person(self, key: str) -> str:
        return f"{self.tag}员工{key}"

    def split(self, actor: str) -> tuple[list[str], list[str]]:
        visible = sorted(VISIBLE[actor])
        return visible, sorted(set(ENTERPRISES) - VISIBLE[actor])


@pytest.fixture(scope="module")
def head_account(app):
    """An enterprise head (role + phone), created through the security manager."""
    phone = F.phone()
    username = F.make_user(app, f"head_{phone}", R.ENTERPRISE_HEAD, phone_number=phone)
    return username, phone


@pytest.fixture
def world(app, head_account) -> World:
    tag = F.tag()
    enterprises, staff, numbers = {}, {}, {}
    for key, (town, type_code, headed) in ENTERPRISES.items():
        enterprises[key] = F.make_enterprise(app, f"{tag}{key}", town, type_code,
                                             head_account[1] if headed else None)
        numbers[key] = F.id_number()
        staff[key] = F.make_staff(app, enterprises[key], f"{tag}员工{key}", numbers[key])
    return World(tag, enterprises, staff, numbers)


@pytest.fixture
def username(head_account):
    return lambda actor: head_account[0] if actor == "head" else actor


def snapshot(app, world: World) -> dict:
    return {
        "enterprises": {k: F.enterprise_row(app, i) for k, i in world.enterprises.items()},
        "staff": {k: F.staff_row(app, i) for k, i in world.staff.items()},
    }


def text(response) -> str:
    """The rows of a list page (the search box echoes the keyword, so not the whole page)."""
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page[page.index("<tbody>"):page.index("</tbody>")]


# --- pages -----------------------------------------------------------------------

@pytest.mark.parametrize("actor", ACTORS)
def test_lists_show_only_rows_in_scope(client, auth, world, username, actor):
    """The enterprise and staff lists show the user's rows and none of another town/bureau/enterprise."""
    auth.login(username(actor))
    visible, foreign = world.split(actor)
    enterprises = text(client.get("/enterprises/?size=100"))
    staff = text(client.get("/staff/?size=100"))
    for key in visible:
        assert world.name(key) in enterprises and world.person(key) in staff
    for key in foreign:
        assert world.name(key) not in enterprises and world.person(key) not in staff


@pytest.mark.parametrize("actor", ACTORS)
def test_search_never_finds_foreign_rows(client, auth, world, username, actor):
    """Searching for another scope's person by ID number, name or phone finds nothing."""
    auth.login(username(actor))
    visible, foreign = world.split(actor)
    assert world.person(visible[0]) in text(client.get(f"/staff/?q={world.numbers[visible[0]]}"))
    for key in foreign:
        phone = F.staff_row(client.application, world.staff[key])[2]
        for q in (world.numbers[key], world.numbers[key][:10], world.person(key), phone):
            assert world.person(key) not in text(client.get("/staff/", query_string={"q": q}))
        assert world.name(key) not in text(client.get("/enterprises/", query_string={"q": world.name(key)}))


@pytest.mark.parametrize("actor", ACTORS)
def test_detail_of_foreign_rows_is_404(client, auth, world, username, actor):
    """Opening another scope's person or enterprise by guessing its id shows 404."""
    auth.login(username(actor))
    visible, foreign = world.split(actor)
    assert client.get(f"/staff/{world.staff[visible[0]]}").status_code == 200
    assert client.get(f"/enterprises/{world.enterprises[visible[0]]}").status_code == 200
    for key in foreign:
        assert client.get(f"/staff/{world.staff[key]}").status_code == 404
        assert client.get(f"/enterprises/{world.enterprises[key]}").status_code == 404


@pytest.mark.parametrize("actor", ACTORS)
def test_edit_forms_of_foreign_rows_are_404(client, auth, world, username, actor):
    """The edit form of another scope's person or enterprise is not shown."""
    auth.login(username(actor))
    visible, foreign = world.split(actor)
    assert client.get(f"/staff/{world.staff[visible[0]]}/edit").status_code == 200
    for key in foreign:
        assert client.get(f"/staff/{world.staff[key]}/edit").status_code == 404
        expected = 404 if WRITES_ENTERPRISES[actor] else 403
        assert client.get(f"/enterprises/{world.enterprises[key]}/edit").status_code == expected


@pytest.mark.parametrize("actor", ACTORS)
def test_edit_posts_cannot_touch_foreign_rows(app, client, auth, world, username, actor):
    """Posting an edit of a foreign row, or moving one's own row into foreign hands, changes nothing."""
    auth.login(username(actor))
    token = csrf_from(client.get("/staff/").data)
    visible, foreign = world.split(actor)
    before = snapshot(app, world)
    mine = visible[0]
    person = {"csrf_token": token, "name": "改名", "id_type": "居民身份证", "phone": "13900000009"}
    for key in foreign:
        edit_foreign = dict(person, enterprise_id=world.enterprises[key], id_number=world.numbers[key])
        assert client.post(f"/staff/{world.staff[key]}/edit", data=edit_foreign).status_code == 404
        move_mine = dict(person, enterprise_id=world.enterprises[key], id_number=world.numbers[mine])
        assert client.post(f"/staff/{world.staff[mine]}/edit", data=move_mine).status_code == 404
        company = {"csrf_token": token, "name": "改名企业", "type_code": "port", "town": "南沙街",
                   "address": "改", "head_name": "改", "head_phone": "13900000009"}
        expected = 404 if WRITES_ENTERPRISES[actor] else 403
        assert client.post(f"/enterprises/{world.enterprises[key]}/edit", data=company).status_code == expected
    if WRITES_ENTERPRISES[actor]:
        own = world.enterprises[mine]
        moved = dict(FOREIGN_PLACE[actor], csrf_token=token, name=world.name(mine), address="改",
                     head_name="王五", head_phone="13900000009")
        assert client.post(f"/enterprises/{own}/edit", data=moved).status_code == 404
    assert snapshot(app, world) == before


@pytest.mark.parametrize("actor", ACTORS)
def test_bulk_delete_skips_foreign_ids(app, client, auth, world, username, actor):
    """Selecting foreign ids for deletion deletes none of them (one's own selected row does go)."""
    auth.login(username(actor))
    token = csrf_from(client.get("/staff/").data)
    visible, foreign = world.split(actor)
    victim = F.make_staff(app, world.enterprises[visible[0]], f"{world.tag}待删")
    ids = [str(world.staff[k]) for k in foreign] + [str(victim)]
    client.post("/staff/delete", data={"csrf_token": token, "ids": ids})
    assert F.staff_row(app, victim) is None
    assert all(F.staff_row(app, world.staff[k]) is not None for k in foreign)
    response = client.post("/enterprises/delete", data={
        "csrf_token": token, "ids": [str(world.enterprises[k]) for k in foreign]})
    if not WRITES_ENTERPRISES[actor]:
        assert response.status_code == 403
    assert all(F.enterprise_row(app, world.enterprises[k]) is not None for k in foreign)
    assert all(F.staff_row(app, world.staff[k]) is not None for k in foreign)


@pytest.mark.parametrize("actor", ACTORS)
def test_exports_hold_only_rows_in_scope(client, auth, world, username, actor):
    """导出全部 (page and API) contains the user's rows and no foreign one; a foreign enterprise's export is 404."""
    auth.login(username(actor))
    headers = auth.token(username(actor))
    visible, foreign = world.split(actor)
    for url, kw in (("/staff/export", {}), ("/api/v1/staff/export", {"headers": headers})):
        response = client.get(url, **kw)
        assert response.status_code == 200
        names = {row[1] for row in F.read_xlsx(response.data)[1:]}
        assert {world.person(k) for k in visible} <= names
        assert not {world.person(k) for k in foreign} & names
    for url, kw in (("/enterprises/export", {}), ("/api/v1/enterprise/export", {"headers": headers})):
        names = {row[0] for row in F.read_xlsx(client.get(url, **kw).data)[1:]}
        assert {world.name(k) for k in visible} <= names
        assert not {world.name(k) for k in foreign} & names
    for key in foreign:
        assert client.get(f"/staff/export?enterprise_id={world.enterprises[key]}").status_code == 404
        assert client.get(f"/api/v1/staff/export?enterprise_id={world.enterprises[key]}",
                          headers=headers).status_code == 404
        searched = client.get("/staff/export", query_string={"q": world.numbers[key]})
        assert len(F.read_xlsx(searched.data)) == 1  # the header only


# --- REST API --------------------------------------------------------------------

@pytest.mark.parametrize("actor", ACTORS)
def test_api_lists_and_reads_only_rows_in_scope(client, auth, world, username, actor):
    """The API lists the user's rows only and answers 404 for a foreign id."""
    headers = auth.token(username(actor))
    visible, foreign = world.split(actor)
    staff = client.get(f"/api/v1/staff/?q={world.tag}&page_size=100", headers=headers).json
    companies = client.get(f"/api/v1/enterprise/?q={world.tag}&page_size=100", headers=headers).json
    assert set(staff["ids"]) == {world.staff[k] for k in visible}
    assert set(companies["ids"]) == {world.enterprises[k] for k in visible}
    for key in foreign:
        assert client.get(f"/api/v1/staff/{world.staff[key]}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/enterprise/{world.enterprises[key]}", headers=headers).status_code == 404
        found = client.get(f"/api/v1/staff/?q={world.numbers[key]}", headers=headers).json
        assert found["count"] == 0


@pytest.mark.parametrize("actor", ACTORS)
def test_api_put_and_delete_of_foreign_rows_change_nothing(app, client, auth, world, username, actor):
    """PUT and DELETE of a foreign person or enterprise answer 404 (403 without write rights) and change nothing."""
    headers = auth.token(username(actor))
    visible, foreign = world.split(actor)
    before = snapshot(app, world)
    enterprise_refusal = 404 if WRITES_ENTERPRISES[actor] else 403
    for key in foreign:
        assert client.put(f"/api/v1/staff/{world.staff[key]}", json={"name": "改名"}, headers=headers).status_code == 404
        moved = {"enterprise_id": world.enterprises[key]}
        assert client.put(f"/api/v1/staff/{world.staff[visible[0]]}", json=moved, headers=headers).status_code == 404
        assert client.delete(f"/api/v1/staff/{world.staff[key]}", headers=headers).status_code == 404
        url = f"/api/v1/enterprise/{world.enterprises[key]}"
        assert client.put(url, json={"name": "改名企业"}, headers=headers).status_code == enterprise_refusal
        assert client.delete(url, headers=headers).status_code == enterprise_refusal
    if WRITES_ENTERPRISES[actor]:
        url = f"/api/v1/enterprise/{world.enterprises[visible[0]]}"
        assert client.put(url, json=FOREIGN_PLACE[actor], headers=headers).status_code == 404
    assert snapshot(app, world) == before


@pytest.mark.parametrize("actor", ACTORS)
def test_api_post_into_foreign_enterprise_town_or_type_is_refused(app, client, auth, world, username, actor):
    """Adding a person to a foreign enterprise, or an enterprise in a foreign town/type, creates nothing."""
    headers = auth.token(username(actor))
    visible, foreign = world.split(actor)
    name = f"{world.tag}新人"
    person = {"name": name, "id_type": "居民身份证", "phone": "13900000009"}
    for key in foreign:
        body = dict(person, enterprise_id=world.enterprises[key], id_number=F.id_number())
        assert client.post("/api/v1/staff/", json=body, headers=headers).status_code == 404
    assert F.count(app, Staff, Staff.name == name) == 0
    body = dict(person, enterprise_id=world.enterprises[visible[0]], id_number=F.id_number())
    assert client.post("/api/v1/staff/", json=body, headers=headers).status_code == 201
    company = dict(FOREIGN_PLACE[actor], name=f"{world.tag}新企业", address="广州市南沙区测试路2号",
                   head_name="王五", head_phone="13900000009")
    expected = 404 if WRITES_ENTERPRISES[actor] else 403
    assert client.post("/api/v1/enterprise/", json=company, headers=headers).status_code == expected
    assert F.count(app, Enterprise, Enterprise.name == company["name"]) == 0


def type_codes(app, *where) -> list[str]:
    from sqlalchemy import select

    from models.enterprise_types import EnterpriseType

    stmt = select(EnterpriseType.code).where(*where).order_by(EnterpriseType.id)
    return F.in_db(app, lambda s: list(s.execute(stmt).scalars()))


def all_towns(app) -> list[str]:
    from sqlalchemy import select

    from models.regions import Town

    return F.in_db(app, lambda s: list(s.execute(select(Town.name).order_by(Town.sort_order, Town.id)).scalars()))


@pytest.fixture(scope="module")
def own_bureau(app) -> tuple[str, list[str]]:
    """A bureau no other test knows, supervising two active types and a deactivated one, and a user of it.

    Returns (username, codes of the active types). Other tests add types to the demo
    bureaus, so exact choices are checked on data only this module writes.
    """
    from models.enterprise_types import EnterpriseType
    from models.organisations import Bureau

    code = "sc" + F.tag()[1:]

    def create(session):
        bureau = Bureau(code=code, name="范围测试委办局" + code)
        session.add(bureau)
        session.flush()
        for suffix, active in (("a", True), ("off", False), ("b", True)):
            session.add(EnterpriseType(code=f"{code}_{suffix}", name=f"范围测试类型{code}{suffix}",
                                       bureau_id=bureau.id, spec={}, active=active))
            session.flush()
        session.commit()

    F.in_db(app, create)
    return F.make_user(app, "bureau_" + code, R.BUREAU, bureau=code), [f"{code}_a", f"{code}_b"]


def info_choices(client, headers) -> tuple[list[str], list[str]]:
    info = client.get("/api/v1/enterprise/_info", headers=headers).json
    return [t["name"] for t in info["towns"]], [t["code"] for t in info["types"]]


@pytest.mark.parametrize("actor", ACTORS)
def test_api_info_offers_only_choices_in_scope(app, client, auth, username, actor, own_bureau):
    """The enterprise form's choices list only the user's town (town user) or supervised active types (bureau)."""
    towns, types = info_choices(client, auth.token(username(actor)))
    if actor == "town_nansha":
        assert towns == ["南沙街"] and "port" in set(types)
        assert "freight" not in types  # a town views freight enterprises but adds none (seed 002 §2.5)
        active, deactivated = own_bureau[1][0], own_bureau[1][0].replace("_a", "_off")
        assert active in types and deactivated not in types  # every bureau's active types, only those
    elif actor == "bureau_port":
        # the demo account: 口岸办's types, never another bureau's; every town
        from models.enterprise_types import EnterpriseType
        from models.organisations import Bureau

        supervised = type_codes(app, EnterpriseType.bureau.has(Bureau.code == "port"))
        assert "port" in types and "freight" not in types and set(types) <= set(supervised)
        assert towns == all_towns(app)
        # exact choices on a bureau only this module writes to: its active types, in order
        towns, types = info_choices(client, auth.token(own_bureau[0]))
        assert types == own_bureau[1] and towns == all_towns(app)
    else:
        assert towns == [] and types == []
