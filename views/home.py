"""The landing page: each role goes to its own home."""
from __future__ import annotations

from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose

from app.security import roles as R

# role → endpoint of its home, first match wins
ROLE_HOMES = (
    (R.DISTRICT_ADMIN, "EnterpriseView.list"),
    (R.BUREAU, "EnterpriseView.list"),
    (R.TOWN, "EnterpriseView.list"),
    (R.ENTERPRISE_HEAD, "HeadView.home"),
    (R.TASKFORCE, "HomeView.welcome"),
    (R.CHECKPOINT, "CheckpointView.scan"),
    (R.FEED, "HomeView.welcome"),
    (R.UNIT_ADMIN, "HomeView.welcome"),
    (R.INSTITUTION_ADMIN, "HomeView.welcome"),
)


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
        if endpoint and endpoint != "HomeView.welcome":
            try:
                return redirect(url_for(endpoint))
            except Exception:  # a module not installed yet
                pass
        return redirect(url_for("HomeView.welcome"))

    @expose("/welcome")
    def welcome(self):
        return self.render_template(self.index_template, role_labels=R.ROLE_LABELS)
