"""Statistics rows are the towns where the viewer's scope holds enterprises: a bureau does
not read a row of zeros ("未填写 0 … 0.00%") for every town without one of its
enterprises — on the page, in the API and in the export alike, with the shared cache on."""
from __future__ import annotations

import pytest

from tests.conftest import login
from tests.integration.factories import read_xlsx
from tests.integration.health.stats_factories import (
    keyed_staff, make_bureau_type, make_bureau_user, make_enterprise, make_town, tag,
)


@pytest.fixture(scope="module")
def bureau(app):
    """A bureau whose one type has enterprises in two new towns (one without staff), and a third new town
    holding only another bureau's enterprise."""
    _code, type_code, bureau_id = make_bureau_type(app)
    _id1, with_staff = make_town(app)
    _id2, without_staff = make_town(app)
    _id3, elsewhere = make_town(app)
    keyed_staff(app, make_enterprise(app, tag() + "有人员企业", town=with_staff, type_code=type_code), "高风险人员")
    make_enterprise(app, tag() + "无人员企业", town=without_staff, type_code=type_code)
    keyed_staff(app, make_enterprise(app, tag() + "他局企业", town=elsewhere, type_code="port"), "高风险人员")
    return {"user": make_bureau_user(app, bureau_id), "towns": [with_staff, without_staff], "elsewhere": elsewhere}


@pytest.fixture
def cache_on(app):
    """The shared statistics cache, as in production (counts per enterprise, shared by every scope)."""
    old = app.config.get("STATS_CACHE_SECONDS")
    app.config["STATS_CACHE_SECONDS"] = 120
    with app.app_context():  # counts cached by earlier tests predate this module's rows
        from app.services.health.statistics import tables

        tables.bump_generation()
    yield
    app.config["STATS_CACHE_SECONDS"] = old


@pytest.mark.usefixtures("cache_on")
@pytest.mark.parametrize("kind", ["tests", "vaccines"])
def test_bureau_rows_are_only_towns_with_its_enterprises(client, auth, bureau, kind):
    """A bureau's table (API, page, export) lists only the towns holding its enterprises; the admin's keeps all."""
    everyone = client.get(f"/api/v1/stats/{kind}", headers=auth.token("admin")).json  # fills the shared cache
    assert bureau["elsewhere"] in {r["town"] for r in everyone["rows"]}
    body = client.get(f"/api/v1/stats/{kind}", headers=auth.token(bureau["user"])).json
    assert [r["town"] for r in body["rows"]] == bureau["towns"]
    assert body["total"]["staff"] == 1
    empty = next(r for r in body["rows"] if r["town"] == bureau["towns"][1])
    assert empty["staff"] == 0  # a town with the bureau's enterprise but no staff keeps its row

    login(client, bureau["user"])
    page = client.get(f"/stats/{kind}").get_data(as_text=True)
    assert bureau["towns"][0] in page and bureau["towns"][1] in page
    assert bureau["elsewhere"] not in page and "南沙街" not in page
    sheet = read_xlsx(client.get(f"/stats/{kind}/export").data)
    towns = [line[0] for line in sheet[1:] if line and line[0] not in ("合计", "统计时间", "查询时间段", None, "")]
    assert towns == bureau["towns"]


def test_no_town_rows_of_zero_enterprises_for_the_task_force(client, auth):
    """The district-wide vaccine table has no town row with 0 enterprises (the demo's 其他 has none)."""
    body = client.get("/api/v1/stats/vaccines", headers=auth.token("taskforce")).json
    assert body["rows"] and all(r["enterprises"] > 0 for r in body["rows"])


@pytest.mark.parametrize("kind", ["tests", "vaccines"])
def test_scope_without_enterprises_reads_no_data(app, client, auth, kind):
    """A bureau with no enterprise yet gets no rows (a total of zeros) and the page says 暂无数据."""
    _code, _type_code, bureau_id = make_bureau_type(app)
    user = make_bureau_user(app, bureau_id)
    body = client.get(f"/api/v1/stats/{kind}", headers=auth.token(user)).json
    assert body["rows"] == [] and body["total"]["staff"] == 0
    login(client, user)
    response = client.get(f"/stats/{kind}")
    assert response.status_code == 200 and "暂无数据" in response.get_data(as_text=True)
