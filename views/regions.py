"""系统管理 → 镇街 / 网格 / 委办局: declared resources held by the district admin
(resource ``Region``); services in app/services/regions.py."""
from __future__ import annotations

from app.domain.i18n import _
from app.security import roles as R
from app.services.regions import BureauService, GridService, TownService
from views.menus import ADMIN
from views.resources import Menu, Resource

TOWNS = Resource(
    name="town", title=_("镇街"), permission=R.REGION, service=TownService(), route="/towns",
    menu=Menu(ADMIN, _("镇街"), "fa-map", name="Towns"), item_title=lambda row: row.name,
)
GRIDS = Resource(
    name="grid", title=_("网格"), permission=R.REGION, service=GridService(), route="/grids",
    menu=Menu(ADMIN, _("网格"), "fa-th", name="Grids"), item_title=lambda row: row.name,
)
BUREAUS = Resource(
    name="bureau", title=_("委办局"), permission=R.REGION, service=BureauService(), route="/bureaus",
    menu=Menu(ADMIN, _("委办局"), "fa-landmark", name="Bureaus"), item_title=lambda row: row.name,
)
