"""Regions and bureaus as declared resources (系统管理 → 镇街 / 网格 / 委办局).

The district's towns are seeded from configuration (bootstrap) and edited by the
district admin; grids belong to a town; bureaus supervise enterprise types. A town,
grid or bureau still in use is not deleted (409, nothing changes).
"""
from __future__ import annotations

from sqlalchemy import select

from app.domain.fields import Field
from app.domain.i18n import _
from app.platform.extensions import db
from app.services.resources import ModelService
from models.organisations import Bureau
from models.regions import Grid, Town


def town_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(select(Town.id, Town.name).order_by(Town.sort_order, Town.id))
    return [(town_id, name) for town_id, name in rows]


TOWN_FIELDS = [
    Field("name", _("镇街"), required=True, max_length=64, search=True, sortable=True),
    Field("sort_order", _("排序"), kind="int", default=0, minimum=0, maximum=9999, sortable=True),
]
GRID_FIELDS = [
    Field("town_id", _("镇街"), kind="choice", required=True, choices=town_choices, list=False, detail=False,
          filters=("eq",)),
    Field("town", _("镇街"), attr="town.name", form=False),
    Field("name", _("网格"), required=True, max_length=64, search=True, sortable=True),
]
BUREAU_FIELDS = [
    Field("code", _("编码"), required=True, max_length=32, search=True, sortable=True),
    Field("name", _("委办局"), required=True, max_length=64, search=True, sortable=True),
]


class TownService(ModelService):
    def __init__(self) -> None:
        super().__init__(Town, TOWN_FIELDS, default_order=(Town.sort_order, Town.id))


class GridService(ModelService):
    def __init__(self) -> None:
        super().__init__(Grid, GRID_FIELDS, default_order=(Grid.town_id, Grid.name))


class BureauService(ModelService):
    def __init__(self) -> None:
        super().__init__(Bureau, BUREAU_FIELDS, default_order=(Bureau.id,))
