"""系统管理 → 疫苗产品: the district admin edits vaccine products (dose counts, intervals).

A declared resource (views/resources.py): list, detail, add, edit, delete, export and
``/api/v1/vaccine_product/``, held by the district admin only (resource
``VaccineProduct``). Every write is checked by the rule the statistics read with
(``app.domain.vaccines.product_from_dict``): errors show beside the field and nothing
is saved; changes are audited with before/after values and the next statistics page
uses them.
"""
from __future__ import annotations

from app.domain.i18n import _
from app.security import roles as R
from app.services.health.feeds.product_admin import VaccineProductService
from views.menus import ADMIN
from views.resources import Menu, Resource

VACCINE_PRODUCTS = Resource(
    name="vaccine_product",
    title=_("疫苗产品"),
    permission=R.VACCINE_PRODUCT,
    service=VaccineProductService(),
    route="/vaccine_products",
    menu=Menu(ADMIN, _("疫苗产品"), "fa-medkit", name="VaccineProducts"),
    item_title=lambda row: row.name,
)
