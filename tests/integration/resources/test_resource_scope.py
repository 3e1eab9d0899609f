"""Every declared resource, for every scoped role (town, bureau, enterprise head, and a
role with no rows): rows outside the scope are invisible, 404 and unchanged on every
path — list, search, detail, edit, delete, bulk delete, export and the API; a resource
the role holds no permission for is refused whole.

A new module is covered by being declared: its resource is found in the app's registry,
and the test fails until it says how to make a row outside a scope (``PROBES``)."""
from __future__ import annotations

import re
from typing import Callable

import pytest
from sqlalchemy import select

from app.security import roles as R
from app.security import scope as S
from tests.conftest import csrf_from, login
from tests.integration import factories as F
from tests.integration.security.test_sms_login import _ip, last_code, open_pause
from views.resources import registered_resources

TOWN, BUREAU, HEAD, NOBODY = "town_nansha", "bureau_port", "head", "nobody"
HEAD_PHONE = F.phone()  # a head of this test's own (the demo head's SMS pause belongs to other tests)


def _outside_enterprise(app) -> tuple[int, str]:
    """An enterprise outside every tested scope: another town, another bureau's type, another head."""
    name = F.tag() + "范围外企业"
    return F.make_enterprise(app, name, town="黄阁镇", type_code="freight"), name


def _outside_staff(app) -> tuple[int, str]:
    enterprise_id, _name = _outside_enterprise(app)
    name = F.tag()[1:] + "某"
    return F.make_staff(app, enterprise_id, name), name


def _outside_alert_setting(app) -> tuple[int, str]:
    """A setting of a type another bureau supervises, for a category of its own."""
    from models.enterprise_types import EnterpriseType
    from models.organisations import Bureau
    from models.rules import AlertSetting

    category = F.tag() + "类别"

    def create(session):
        bureau_id = session.execute(select(Bureau.id).where(Bureau.code == "transport")).scalar_one()
        etype = EnterpriseType(code="t" + F.tag()[1:], name="范围外类型" + F.tag(), bureau_id=bureau_id,
                               spec={"categories": [category]}, active=True)
        session.add(etype)
        session.flush()
        row = AlertSetting(type_id=etype.id, category=category, rule="1d1", recipients=[])
        session.add(row)
        session.commit()
        return row.id

    return F.in_db(app, create), category


def _outside_booking(app) -> tuple[int, str]:
    """A booking of a driver of an enterprise outside every tested scope (黄阁镇, freight)."""
    from tests.integration.trucks.factories import make_booking

    enterprise_id, _name = _outside_enterprise(app)
    name = "范围外司机" + F.tag()[1:]
    return make_booking(app, driver_name=name, enterprise_id=enterprise_id), name


def _outside_recipients(app) -> tuple[int, str]:
    """The checkpoint's 告警设置 of 黄阁镇: the transport bureau's (no tested role is it),
    not the tested town's; created on first read, like the list does."""
    from app.services.drivers.recipients import ensure_rows
    from models.drivers import RECIPIENTS_TOWN, CheckpointRecipients
    from models.regions import Town

    def find(session):
        ensure_rows(session)
        return session.execute(select(CheckpointRecipients.id).join(Town, Town.id == CheckpointRecipients.town_id)
                               .where(CheckpointRecipients.scope == RECIPIENTS_TOWN, Town.name == "黄阁镇")).scalar_one()

    return F.in_db(app, find), "黄阁镇"


def _any_row(model) -> Callable:
    def probe(app):
        row = F.in_db(app, lambda s: s.execute(select(model.id).order_by(model.id)).first())
        return (row[0] if row else None), None
    return probe


def _probes():
    from models.audit import AuditLog
    from models.enterprise_types import EnterpriseType
    from models.notify import Message
    from models.organisations import Bureau
    from models.regions import Grid, Town
    from models.security_events import SecurityEvent
    from models.vaccines import VaccineProduct

    return {
        "enterprise": _outside_enterprise,
        "staff": _outside_staff,
        # held by the district admin alone: every tested role is refused the whole resource
        "enterprise_type": _any_row(EnterpriseType), "town": _any_row(Town), "grid": _any_row(Grid),
        "bureau": _any_row(Bureau), "vaccine_product": _any_row(VaccineProduct), "audit_log": _any_row(AuditLog),
        "security_event": _any_row(SecurityEvent), "outbox": _any_row(Message),
        "alert_settings": _outside_alert_setting,
        # 货车司机管理 (issue 15): drivers are staff of a freight enterprise; bookings
        "truck_driver": _outside_staff,
        "booking_record": _outside_booking,
        "checkpoint_recipients": _outside_recipients,
    }


PROBES = _probes()


@pytest.fixture(scope="module")
def people(app):
    """API tokens and signed-in browsers of the four kinds of principal."""
    nobody = F.make_user(app, "nobody_" + F.tag()[1:], R.BUREAU)  # a bureau role linked to no bureau
    F.make_enterprise(app, F.tag() + "负责人的企业", head_phone=HEAD_PHONE)
    out = {}
    for who, username in ((TOWN, TOWN), (BUREAU, BUREAU), (NOBODY, nobody)):
        browser = app.test_client()
        login(browser, username)
        token = F.api_login(app.test_client(), username).json["access_token"]
        out[who] = ({"Authorization": f"Bearer {token}"}, browser)
    api = app.test_client()
    api.environ_base["REMOTE_ADDR"] = _ip()
    api.post("/api/v1/identity/code", json={"phone": HEAD_PHONE, "purpose": "head"})
    token = api.post("/api/v1/identity/verify", json={"phone": HEAD_PHONE, "purpose": "head",
                                                       "code": last_code(app, HEAD_PHONE)}).json["access_token"]
    open_pause(app, HEAD_PHONE)
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = _ip()
    page = browser.get("/head/login")
    browser.post("/head/login/code", json={"phone": HEAD_PHONE},
                 headers={"X-CSRFToken": csrf_from(page.data), "Accept": "application/json"})
    browser.post("/head/login", data={"phone": HEAD_PHONE, "code": last_code(app, HEAD_PHONE),
                                      "csrf_token": csrf_from(browser.get("/head/login").data)})
    out[HEAD] = ({"Authorization": f"Bearer {token}"}, browser)
    return out


def _snapshot(app, model, pk):
    def read(session):
        row = session.get(model, pk)
        return None if row is None else {c.key: getattr(row, c.key) for c in model.__table__.columns}
    return F.in_db(app, read)


def test_every_declared_resource_has_a_probe(app):
    """A newly declared resource must say how to find a row outside a scope."""
    assert set(registered_resources(app)) <= set(PROBES), set(registered_resources(app)) - set(PROBES)


@pytest.mark.parametrize("who", [TOWN, BUREAU, HEAD, NOBODY])
@pytest.mark.parametrize("name", sorted(PROBES))
def test_rows_outside_the_scope_are_invisible_404_and_unchanged(app, people, who, name):
    resource = registered_resources(app)[name]
    model = resource.service.model
    pk, keyword = PROBES[name](app)
    assert pk is not None, f"no row of {name} to probe"
    headers, browser = people[who]
    before = _snapshot(app, model, pk)
    api = app.test_client()
    base = f"/api/v1/{name}"
    permitted = api.get(f"{base}/", headers=headers).status_code != 403
    refused = {404} if permitted else {403}
    write_refused = refused | {403}  # a read-only role (the head on enterprises) is refused the write itself

    # the API: read, change, delete, list, search, export
    assert api.get(f"{base}/{pk}", headers=headers).status_code in refused
    if "put" in resource.api:
        assert api.put(f"{base}/{pk}", json={"name": "改名"}, headers=headers).status_code in write_refused
    if "delete" in resource.api:
        assert api.delete(f"{base}/{pk}", headers=headers).status_code in write_refused
    if permitted:
        listed = api.get(f"{base}/?page_size=100&q={keyword or ''}", headers=headers).json
        assert pk not in listed["ids"]
        rison = api.get(f"{base}/?q=(page:0,page_size:100)", headers=headers).json
        assert pk not in rison["ids"] and rison["count"] == api.get(f"{base}/", headers=headers).json["count"]
        if "export" in resource.api and keyword:
            sheet = F.read_xlsx(api.get(f"{base}/export?q={keyword}", headers=headers).data)
            assert not any(keyword in str(cell) for row in sheet for cell in row)

    # the pages: detail, edit, delete one, bulk delete, search, export
    route = resource.route
    token = csrf_from(browser.get("/logout/").data)
    if "detail" in resource.pages:
        assert browser.get(f"{route}/{pk}").status_code in refused
    if "edit" in resource.pages:
        assert browser.get(f"{route}/{pk}/edit").status_code in write_refused
        assert browser.post(f"{route}/{pk}/edit",
                            data={"csrf_token": token, "name": "改名"}).status_code in write_refused
    if "delete" in resource.pages:
        answer = browser.post(f"{route}/delete", data={"csrf_token": token, "ids": [str(pk)]})
        assert answer.status_code in ({302, 403} if permitted else {403})
    if permitted and keyword:
        listing = browser.get(f"{route}/?q={keyword}").get_data(as_text=True)
        # the page sizes (10/20/50/100: the hidden input, the pager's choices) are no row ids
        listing = re.sub(r'name="size" value="\d+"|<option value="\d+"[^>]*>\d+条/页', "", listing)
        assert f'{route}/{pk}"' not in listing and f'value="{pk}"' not in listing
        if "export" in resource.pages:
            sheet = F.read_xlsx(browser.get(f"{route}/export?q={keyword}").data)
            assert not any(keyword in str(cell) for row in sheet for cell in row)

    assert _snapshot(app, model, pk) == before, "a row outside the scope changed"
    if permitted:
        scope = F.in_db(app, lambda s: S.scope_for_user(_principal(s, who)))
        assert F.in_db(app, lambda s: s.execute(
            S.apply(select(model.id).where(model.id == pk), model, scope)).first()) is None


def _principal(session, who):
    from models.users import SentinelUser

    if who == HEAD:
        return session.execute(select(SentinelUser).where(SentinelUser.phone == HEAD_PHONE)).scalar_one()
    if who == NOBODY:
        return session.execute(select(SentinelUser).where(SentinelUser.username.like("nobody_%"))).scalars().first()
    return session.execute(select(SentinelUser).where(SentinelUser.username == who)).scalar_one()
