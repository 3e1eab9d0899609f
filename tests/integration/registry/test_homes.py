"""Each role lands on its work (issue 13 item 10): the task force on the statistics, town,
bureau and district admin users on 首页 — the numbers of their scope, the same as the lists
they open — the head on its phone home, and the roles whose modules are not built yet on
a page saying what they will find there."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import login
from tests.integration import factories as F
from tests.integration.health.stats_factories import (
    keyed_staff, make_bureau_type, make_bureau_user, make_enterprise, make_town,
)
from tests.integration.security.test_sms_login import _ip, ask_code, head_phone, last_code, submit

BUCKETS = ("24h", "48h", "72h", "over72h", "unmatched")


def _sampled(app, key: str, hours_ago: float) -> None:
    """The person's summary: latest sampling ``hours_ago`` hours ago (as ingest keeps it)."""
    from models.health import HealthSummary

    def write(session):
        at = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=hours_ago)
        session.add(HealthSummary(id_key=key, last_sampled_at=at, last_tested_at=at, last_result="阴性", max_dose=0))
        session.commit()

    F.in_db(app, write)


@pytest.fixture(scope="module")
def town(app):
    """A town of its own: one enterprise of a bureau's type with 5 staff, one in each bucket, and a town user."""
    _town_id, name = make_town(app)
    _bureau, type_code, bureau_id = make_bureau_type(app)
    enterprise = make_enterprise(app, F.tag() + "首页企业", town=name, type_code=type_code)
    for hours in (10, 30, 60, 100, None):
        _staff_id, key = keyed_staff(app, enterprise, "高风险人员")
        if hours is not None:
            _sampled(app, key, hours)
    # the same bureau in another town, and another enterprise (another bureau) in this town's neighbour
    _other_id, other = make_town(app)
    keyed_staff(app, make_enterprise(app, F.tag() + "他镇企业", town=other, type_code=type_code), "高风险人员")
    return {"name": name, "user": F.make_user(app, "home" + F.tag()[1:], "town", town=name),
            "bureau": make_bureau_user(app, bureau_id)}


def _numbers(html: str) -> dict[str, int]:
    found = dict(re.findall(r'id="((?:count|bucket|today)-[\w-]+)" data-count="(\d+)"', html))
    return {k: int(v) for k, v in found.items()}


def _listed(client, url: str) -> int:
    return int(re.search(r"共 (\d+) 条", client.get(url).get_data(as_text=True)).group(1))


@pytest.mark.parametrize("username, home", [
    ("admin", "/dashboard/"), ("town_nansha", "/dashboard/"), ("bureau_port", "/dashboard/"),
    ("taskforce", "/stats/tests"), ("checkpoint", "/checkpoint/"), ("unit_admin", "/welcome"),
    ("institution_admin", "/welcome"), ("feed", "/welcome"),
])
def test_each_role_lands_on_its_home(app, client, username, home):
    """/ sends each government role to its own home, and that home answers."""
    login(client, username)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith(home)
    assert client.get(home).status_code == 200


@pytest.mark.parametrize("username, words", [
    ("unit_admin", "人员审核"), ("institution_admin", "最终审核"),
    ("feed", "通过接口推送"),
])
def test_roles_without_their_module_read_what_they_will_find(client, username, words):
    """A role whose module is not built yet is told what its home will offer, not shown an empty page."""
    login(client, username)
    page = client.get("/welcome").get_data(as_text=True)
    assert words in page and 'class="well role-intro"' in page


def test_town_dashboard_counts_its_town_only_and_matches_the_lists(client, town):
    """A town user's 首页: 1 enterprise, 5 staff, one per bucket, 今日未匹配 1 — each number what its list shows."""
    login(client, town["user"])
    html = client.get("/dashboard/").get_data(as_text=True)
    numbers = _numbers(html)
    assert numbers["count-enterprises"] == 1 and numbers["count-staff"] == 5
    assert {b: numbers[f"bucket-{b}"] for b in BUCKETS} == dict.fromkeys(BUCKETS, 1)
    assert numbers["today-unmatched"] == 1 and "today-noncompliant" in numbers
    assert town["name"] in html
    assert _listed(client, "/enterprises/") == 1
    assert _listed(client, "/staff/") == 5
    for bucket in BUCKETS:
        assert f'href="/staff/?bucket={bucket}"' in html
        assert _listed(client, f"/staff/?bucket={bucket}") == 1


def test_bureau_dashboard_counts_its_types_in_every_town(client, town):
    """A bureau's 首页 counts the enterprises of its types in every town (2 here), like its 企业管理."""
    login(client, town["bureau"])
    numbers = _numbers(client.get("/dashboard/").get_data(as_text=True))
    assert numbers["count-enterprises"] == 2 and numbers["count-staff"] == 6
    assert numbers["count-enterprises"] == _listed(client, "/enterprises/")


def test_admin_dashboard_is_district_wide(app, client, town):
    """The district admin's 首页 counts every enterprise and person, the town's included."""
    from models.enterprises import Enterprise
    from models.staff import Staff

    login(client, "admin")
    numbers = _numbers(client.get("/dashboard/").get_data(as_text=True))
    assert numbers["count-enterprises"] == F.count(app, Enterprise) > 2
    assert numbers["count-staff"] == F.count(app, Staff)
    assert sum(numbers[f"bucket-{b}"] for b in BUCKETS) == numbers["count-staff"]


def test_head_lands_on_its_phone_home(app):
    """A head logged in by SMS code lands on its enterprise's phone home."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = _ip()
    phone, _ids = head_phone(app)
    ask_code(client, phone)
    submit(client, phone, last_code(app, phone))
    assert client.get("/").headers["Location"].endswith("/head/")
