"""Full ID numbers and phones in exports are a permission of their own (issue 11):
towns, bureaus, the district admin (and enterprise heads) get them in full; the task
force, which only reads statistics, gets them masked in every export it can reach.
Every export's audit row says how many rows left and whether the numbers were full."""
from __future__ import annotations

import pytest

from app.domain.identity import mask_id, mask_phone
from tests.conftest import login
from tests.integration import factories as F
from tests.integration.health.stats_factories import make_town

HEAD_PHONE_COLUMN, PHONE_COLUMN, ID_COLUMN = 6, 3, 4  # staff export (the ledger of seed 001 §2.3)
ENTERPRISE_HEAD_PHONE_COLUMN = 6  # enterprise export


@pytest.fixture(scope="module")
def town(app):
    """A town of its own: one enterprise, two people with known numbers, a town user."""
    town_id, name = make_town(app)
    head_phone = F.phone()
    enterprise_id = F.make_enterprise(app, F.tag() + "脱敏企业", town=name, head_phone=head_phone)
    people = [(F.id_number(), F.phone()) for _ in range(2)]
    for n, (number, phone) in enumerate(people):
        F.make_staff(app, enterprise_id, f"{F.tag()}{n}", number, phone=phone, category="高风险人员")
    user = F.make_user(app, "u" + F.tag()[1:], "town", town=name)
    return {"id": town_id, "enterprise_id": enterprise_id, "head_phone": head_phone, "people": people, "user": user}


def drill(town, measure="staff", kind="tests") -> dict:
    return {"kind": kind, "measure": measure, "town_id": town["id"]}


def export(app, client, url, params) -> tuple[list[list], dict]:
    """The exported rows (header first) and the audit row the export wrote."""
    since = F.last_audit_id(app)
    response = client.get(url, query_string=params)
    assert response.status_code == 200, response.data[:300]
    rows = F.read_xlsx(response.data)
    entries = [a for a in F.in_db(app, lambda s: _exports_since(s, since))]
    assert len(entries) == 1, entries
    return rows, entries[0]


def _exports_since(session, since):
    from sqlalchemy import select

    from models.audit import AuditLog

    stmt = select(AuditLog).where(AuditLog.action == "export", AuditLog.id > since)
    return [dict(rows=a.rows, detail=a.detail, after=a.after, username=a.username)
            for a in session.execute(stmt).scalars()]


def cells(rows: list[list]) -> set[str]:
    return {str(v) for row in rows for v in row if v is not None}


def test_task_force_drill_down_export_masks_ids_and_phones(app, client, town):
    """The task force downloads the people behind a number: ID numbers and phones (the head's too) are masked."""
    login(client, "taskforce")
    rows, entry = export(app, client, "/stats/people/export", drill(town))

    people = {(r[ID_COLUMN], r[PHONE_COLUMN], r[HEAD_PHONE_COLUMN]) for r in rows[1:]}
    assert people == {(mask_id(n), mask_phone(p), mask_phone(town["head_phone"])) for n, p in town["people"]}
    full = {n for n, _p in town["people"]} | {p for _n, p in town["people"]} | {town["head_phone"]}
    assert not full & cells(rows)
    assert entry["username"] == "taskforce" and entry["rows"] == 2
    assert entry["after"] == {"rows": 2, "numbers": "masked"} and "已脱敏" in entry["detail"]


def test_task_force_enterprise_drill_down_masks_the_head_phone(app, client, town):
    """主体数量's download for the task force shows the enterprise but not its head's full phone."""
    login(client, "taskforce")
    rows, entry = export(app, client, "/stats/people/export", drill(town, "enterprises", "vaccines"))

    assert [r[ENTERPRISE_HEAD_PHONE_COLUMN] for r in rows[1:]] == [mask_phone(town["head_phone"])]
    assert entry["after"] == {"rows": 1, "numbers": "masked"}


@pytest.mark.parametrize("url, params", [
    ("/stats/people/export", None),
    ("/staff/export", {}),
    ("/staff/export", {"bucket": "unmatched"}),
])
def test_town_user_exports_carry_full_numbers(app, client, town, url, params):
    """A town user's downloads (drill-down, 导出全部, 未匹配人员) hold the full ID numbers and phones their work needs."""
    login(client, town["user"])
    rows, entry = export(app, client, url, drill(town) if params is None else
                         {**params, "enterprise_id": town["enterprise_id"]})

    people = {(r[ID_COLUMN], r[PHONE_COLUMN], r[HEAD_PHONE_COLUMN]) for r in rows[1:]}
    assert people == {(n, p, town["head_phone"]) for n, p in town["people"]}
    assert entry["username"] == town["user"] and entry["rows"] == 2
    assert entry["after"] == {"rows": 2, "numbers": "full"} and "完整" in entry["detail"]


@pytest.mark.parametrize("username", ["admin", "bureau_port"])
def test_admin_and_bureau_enterprise_exports_carry_the_full_head_phone(app, client, town, username):
    """The district admin's and the supervising bureau's enterprise downloads show the head's full phone."""
    login(client, username)
    rows, entry = export(app, client, "/enterprises/export", {"town_id": town["id"]})

    assert [r[ENTERPRISE_HEAD_PHONE_COLUMN] for r in rows[1:]] == [town["head_phone"]]
    assert entry["after"] == {"rows": 1, "numbers": "full"}

