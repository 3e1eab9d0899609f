"""统计分析: 核酸检测统计 and 疫苗接种统计 pages, their drill-downs and exports, and
``GET /api/v1/stats/tests`` / ``GET /api/v1/stats/vaccines`` (SPEC §3, §9).

Resource ``Statistics`` (read): bureau, town, task force, district admin. Numbers,
scope and definitions are ``app.services.health.statistics.tables``'s; these views parse the
request and render.
"""
from __future__ import annotations

from datetime import date

from flask import current_app, flash, request
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name, protect
from flask_babel import lazy_gettext as _

from app.domain.errors import OutOfScope, RuleError
from app.domain.identity import mask_id, mask_phone
from app.platform import clock
from app.security import roles as R
from app.services import exports
from app.services.health.statistics import samplings, tables, vaccinations
from app.services.paging import paginate
from models.regions import Town
from views import openapi as doc
from views.base import ScopedApi, ScopedView, rw_map

READS = ("tests", "vaccines", "tests_export", "vaccines_export", "people", "people_export")

_COUNT, _RATE = {"type": "integer"}, {"type": "string", "description": "A percentage, e.g. 36.98%"}
_TOWN = {"town_id": doc.nullable({"type": "integer", "description": "null on the total row"}),
         "town": {"type": "string"}}
_DOSES = {f"dose{n}_{part}": (_RATE if part == "rate" else _COUNT)
          for n in (1, 2, 3) for part in ("eligible", "vaccinated", "rate")}
TEST_ROW = doc.obj({
    **_TOWN, "category": doc.nullable({"type": "string"}),
    **{key: _COUNT for key in ("staff", "untested", "tests", "tested", "negative", "positive", "pending")},
    "coverage": _RATE,
}, required=("town_id", "town", "category", "staff", "untested", "tests", "tested", "coverage", "negative",
             "positive", "pending"))
VACCINE_ROW = doc.obj({**_TOWN, "enterprises": _COUNT, "staff": _COUNT, **_DOSES},
                      required=("town_id", "town", "enterprises", "staff", *_DOSES))
_COLUMNS = doc.array(doc.obj({"key": {"type": "string"}, "label": {"type": "string"}}, required=("key", "label")),
                     "The table's columns in order, with their Chinese headings")
_COMPUTED = {"type": "string", "format": "date-time", "description": "统计时间: when the counts were computed"}
_DAY = {"type": "string", "format": "date"}
TEST_TABLE = doc.obj({
    "computed_at": _COMPUTED, "start": _DAY, "end": _DAY,
    "columns": _COLUMNS, "rows": doc.array(doc.ref("TestStatsRow")), "total": doc.ref("TestStatsRow"),
}, required=("computed_at", "start", "end", "columns", "rows", "total"))
VACCINE_TABLE = doc.obj({
    "computed_at": _COMPUTED, "columns": _COLUMNS, "rows": doc.array(doc.ref("VaccineStatsRow")),
    "total": doc.ref("VaccineStatsRow"),
}, required=("computed_at", "columns", "rows", "total"))


def _drill_from_args(kind_default: str = tables.TESTS) -> tables.Drill:
    """The drill-down a link names; OutOfScope (404) for anything malformed."""
    args = request.args
    kind = args.get("kind", kind_default)
    town_id = args.get("town_id")
    if town_id not in (None, "") and not str(town_id).isdigit():
        raise OutOfScope("Town")
    start = end = None
    if kind == tables.TESTS:
        try:
            start, end = tables.period(args.get("start"), args.get("end"))
        except RuleError:
            raise OutOfScope("period")
    return tables.Drill(kind, args.get("measure", "staff"), int(town_id) if town_id else None,
                       args.get("category") or None, start, end)


class StatsView(ScopedView):
    route_base = "/stats"
    class_permission_name = R.STATISTICS
    method_permission_name = rw_map(extra_read=READS)
    default_view = "tests"

    def _period(self) -> tuple[date, date]:
        try:
            return tables.period(request.args.get("start"), request.args.get("end"))
        except RuleError as err:
            flash(str(err), "danger")
            return tables.period(None, None)

    @expose("/tests")
    @has_access
    def tests(self):
        """核酸检测统计 for the chosen period (default: the last 7 days)."""
        start, end = self._period()
        table = tables.test_stats(self.session, self.scope, start, end)
        earliest, today = tables.period_bounds()
        return self.render_template("sentinel/stats_tests.html", table=table, start=start, end=end,
                                    earliest=earliest, today=today, kept=(today - earliest).days + 1,
                                    chart=tables.chart_data(table), no_category=tables.NO_CATEGORY,
                                    title=_("核酸检测统计"))

    @expose("/tests/export")
    @has_access
    def tests_export(self):
        start, end = self._period()
        return exports.download(tables.export_table(tables.test_stats(self.session, self.scope, start, end)))

    @expose("/vaccines")
    @has_access
    def vaccines(self):
        """疫苗接种统计 as of today."""
        table = tables.vaccine_stats(self.session, self.scope)
        return self.render_template("sentinel/stats_vaccines.html", table=table, chart=tables.chart_data(table),
                                    dose_words=vaccinations.DOSE_WORDS, part_labels=vaccinations.PART_LABELS,
                                    district=current_app.config.get("DISTRICT_NAME", ""), title=_("疫苗接种统计"))

    @expose("/vaccines/export")
    @has_access
    def vaccines_export(self):
        return exports.download(tables.export_table(tables.vaccine_stats(self.session, self.scope)))

    def _drill(self):
        try:
            drill = _drill_from_args()
            tables.check_drill(self.session, self.scope, drill)
        except KeyError:
            raise OutOfScope("measure")
        town = self.session.get(Town, drill.town_id) if drill.town_id else None
        return drill, tables.drill_title(drill, town.name if town else None)

    @expose("/people")
    @has_access
    def people(self):
        """The people (or, for 主体数量, the enterprises) behind one number."""
        drill, title = self._drill()
        page, size = self.paging()
        args = {k: v for k, v in request.args.items() if k not in ("page", "size")}
        if drill.measure == "enterprises":
            result = paginate(self.session, tables.enterprise_people(self.session, self.scope, drill.town_id),
                              page, size)
            return self.render_template("sentinel/stats_people.html", page=result, drill=drill, args=args,
                                        enterprises=True, mask_phone=mask_phone, title=title)
        result = paginate(self.session, tables.people(self.session, self.scope, drill), page, size)
        keys = [p.id_key for p in result.items if p.id_key]
        numbers = samplings.person_numbers(self.session, keys, drill.start, drill.end) \
            if drill.kind == tables.TESTS else {}
        doses = vaccinations.person_doses(self.session, keys)
        return self.render_template(
            "sentinel/stats_people.html", page=result, drill=drill, args=args, enterprises=False,
            numbers=numbers, untested=samplings.OUTCOME_LABELS["untested"], doses=doses, mask_id=mask_id, mask_phone=mask_phone, local_text=clock.local_text,
            title=title,
        )

    @expose("/people/export")
    @has_access
    def people_export(self):
        drill, title = self._drill()
        return exports.download(tables.export_people(self.session, self.scope, drill, title))


class StatsApi(ScopedApi):
    """/api/v1/stats/ — the statistics tables as JSON (rows and total), scoped like the pages."""

    resource_name = "stats"
    class_permission_name = R.STATISTICS
    method_permission_name = rw_map(extra_read=("get_tests", "get_vaccines"))
    openapi_spec_tag = "Stats"
    openapi_components = {"TestStatsRow": TEST_ROW, "TestStats": TEST_TABLE,
                          "VaccineStatsRow": VACCINE_ROW, "VaccineStats": VACCINE_TABLE}

    @expose("/tests", methods=["GET"])
    @protect()
    @permission_name("get_tests")
    @doc.describe(doc.answer(doc.ref("TestStats"), "The table: a row per town and staff category, and the total"),
                  params=[doc.query("start", _DAY, "YYYY-MM-DD (default: end - 6 days)"),
                          doc.query("end", _DAY, "YYYY-MM-DD (default: today)")],
                  errors=(400,))
    def get_tests(self):
        """核酸检测统计 per town × staff category for the local days [start, end].

        A bad date, an end before the start, or a period longer than the test records
        are kept is a 400."""
        try:
            start, end = tables.period(request.args.get("start"), request.args.get("end"))
        except RuleError as err:
            return self.response_400(str(err))
        return self.response(200, **tables.test_stats(self.session, self.scope, start, end).as_json())

    @expose("/vaccines", methods=["GET"])
    @protect()
    @permission_name("get_vaccines")
    @doc.describe(doc.answer(doc.ref("VaccineStats"), "The table: a row per town, and the total"))
    def get_vaccines(self):
        """疫苗接种统计 per town, as of today (district time)."""
        return self.response(200, **tables.vaccine_stats(self.session, self.scope).as_json())


def register(appbuilder) -> None:
    """Menu 统计分析 and the API (called from views/__init__.py)."""
    category = dict(category="Statistics", category_label=_("统计分析"), category_icon="fa-bar-chart")
    appbuilder.add_view(StatsView, "TestStats", label=_("核酸检测统计"), href="StatsView.tests", icon="fa-flask",
                        **category)
    appbuilder.add_link("VaccineStats", label=_("疫苗接种统计"), href="StatsView.vaccines", icon="fa-medkit", **category)
    appbuilder.add_api(StatsApi)
