"""The landing page: each role goes to its own home (issue 13: "homes that are their work").

* town, bureau, district admin → 首页 (``DashboardView``): the numbers of their scope
  (``app.services.dashboard``), each a link to the list behind it;
* task force → 核酸检测统计, its whole job;
* enterprise head → the head's phone home (views/head.py);
* checkpoint staff → the scan screen (views/checkpoint_pages.py);
* roles whose modules are not built yet (unit and institution admins) and the feed
  account → a page saying what they will find there (``ROLE_INTROS``).
"""
from __future__ import annotations

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose, has_access
from flask_babel import lazy_gettext as _

from app.security import roles as R
from app.security.actions import can
from app.services import dashboard
from views.base import ScopedView, rw_map

# role → endpoint of its home, first match wins
ROLE_HOMES = (
    (R.DISTRICT_ADMIN, "DashboardView.dashboard"),
    (R.BUREAU, "DashboardView.dashboard"),
    (R.TOWN, "DashboardView.dashboard"),
    (R.ENTERPRISE_HEAD, "HeadView.home"),
    (R.TASKFORCE, "StatsView.tests"),
    (R.CHECKPOINT, "CheckpointView.scan"),
    (R.FEED, "HomeView.welcome"),
    (R.UNIT_ADMIN, "HomeView.welcome"),
    (R.INSTITUTION_ADMIN, "HomeView.welcome"),
)

# What the welcome page tells a role whose work is not (or not on a page) here yet.
ROLE_INTROS = {
    R.UNIT_ADMIN: _("人员审核：查看本单位上报的核酸采样检测人员（上报数、待审核、已驳回、单位通过、机构通过），"
                    "逐一审核通过或驳回，并导出名单。该功能正在建设中，上线后登录即进入审核列表。"),
    R.INSTITUTION_ADMIN: _("人员审核：对各单位审核通过的核酸采样检测人员进行最终审核，必要时退审。"
                           "该功能正在建设中，上线后登录即进入审核列表。"),
    R.FEED: _("数据接口账号由广东省核酸检测和疫苗接种系统通过接口推送记录使用，无需在页面上操作。"),
}


def home_endpoint(role_names: set[str]) -> str | None:
    for role, endpoint in ROLE_HOMES:
        if role in role_names:
            return endpoint
    return None


class HomeView(IndexView):
    route_base = ""
    index_template = "sentinel/welcome.html"

    @expose("/")
    def index(self):
        user = g.user
        if user is None or not user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        endpoint = home_endpoint({r.name for r in user.roles})
        if endpoint and endpoint != "HomeView.welcome" and can(endpoint):
            return redirect(url_for(endpoint))
        return redirect(url_for("HomeView.welcome"))

    @expose("/welcome")
    def welcome(self):
        names = [r.name for r in g.user.roles] if g.user is not None and g.user.is_authenticated else []
        intros = [ROLE_INTROS[name] for name in names if name in ROLE_INTROS]
        return self.render_template(self.index_template, role_labels=R.ROLE_LABELS, intros=intros)


class DashboardView(ScopedView):
    """首页 of town, bureau and district admin users: 企业数量, 人员数量, the five test-status
    buckets and today's 未匹配 / 未按规定检测 of their scope, scoped like the lists they open.

    Resource ``Staff`` (read): the numbers are the staff list's."""

    route_base = "/dashboard"
    class_permission_name = R.STAFF
    method_permission_name = rw_map(extra_read=("dashboard",))
    default_view = "dashboard"

    @expose("/")
    @has_access
    def dashboard(self):
        numbers = dashboard.scope_dashboard(self.session, self.scope, with_compliance=can("read", R.COMPLIANCE))
        return self.render_template("sentinel/dashboard.html", d=numbers, scope_name=self._scope_name(),
                                    title=_("首页"))

    @staticmethod
    def _scope_name() -> str:
        user = g.user
        if user.town is not None:
            return user.town.name
        if user.bureau is not None:
            return user.bureau.name
        return str(_("全区"))
