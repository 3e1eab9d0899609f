"""Vaccine products as data (疫苗产品): load the shipped defaults, validate an admin's
edit, and hand the rules ``app.domain.vaccines.Product`` values.

* ``products(session)``: the active products, in id order (the shipped file's order,
  then what the admin added). The rules take them as they are: the one marked default
  applies to records whose product is blank or unknown (``vaccines.default_product``).
* ``load_file(session)``: inserts the products of ``data/vaccine_products.json`` whose
  code is not in the table yet — never overwrites what the admin changed, and does not
  bring back a shipped product the admin deleted (its audited delete is remembered).
* ``validate(row)``: the row as the rules read it (``vaccines.product_from_dict``), a
  code that no other product has, at most one default — else ``ValidationFailed``
  with Chinese messages. Saving a default product clears the flag on the others
  (``after_save``).

Callers are admin-only views and the bootstrap; no row scoping here.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from app.domain import vaccines
from app.domain.errors import RuleError, ValidationFailed
from app.domain.i18n import _
from app.platform.operations import operation
from models.audit import AuditLog
from models.vaccines import VaccineProduct

ENTITY = "VaccineProduct"
AUDIT_FIELDS = ["code", "name", "maker", "aliases", "primary_doses", "primary_interval_days", "booster_doses",
                "booster_interval_days", "is_default", "active"]
CODE_RE = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")


def as_dict(row: VaccineProduct) -> dict[str, Any]:
    """The row in the data form ``vaccines.product_from_dict`` reads."""
    return {
        "code": row.code, "name": row.name, "maker": row.maker, "aliases": row.aliases or "",
        "primary_doses": row.primary_doses, "primary_interval_days": row.primary_interval_days,
        "booster_doses": row.booster_doses, "booster_interval_days": row.booster_interval_days,
        "default": bool(row.is_default),
    }


def to_product(row: VaccineProduct) -> vaccines.Product:
    return vaccines.product_from_dict(as_dict(row))


def products(session) -> tuple[vaccines.Product, ...]:
    """The active products as the rules read them (empty: the built-in default applies)."""
    rows = session.execute(
        select(VaccineProduct).where(VaccineProduct.active.is_(True)).order_by(VaccineProduct.id)).scalars()
    out = []
    for row in rows:
        try:
            out.append(to_product(row))
        except RuleError:  # a row written around the validation: ignored, not fatal to a statistics page
            continue
    return tuple(out)


def _aliases_text(aliases: Any) -> str:
    if isinstance(aliases, str):
        return aliases.strip()
    return "\n".join(str(a).strip() for a in (aliases or ()) if str(a).strip())


def validate(session, row: VaccineProduct) -> vaccines.Product:
    """Normalise ``row`` in place and check it; :raise ValidationFailed: nothing to save."""
    row.code = (row.code or "").strip()
    row.name = (row.name or "").strip()
    row.maker = (row.maker or "").strip() or None
    row.aliases = _aliases_text(row.aliases) or None
    errors: list[RuleError] = []
    if not CODE_RE.match(row.code):
        errors.append(RuleError("code", _("编码只能由字母、数字、下划线或横线组成，且不超过32个字符")))
    else:
        clash = select(VaccineProduct.id).where(VaccineProduct.code == row.code)
        if row.id is not None:
            clash = clash.where(VaccineProduct.id != row.id)
        if session.execute(clash).first():
            errors.append(RuleError("code", _("疫苗编码“%(code)s”已存在", code=row.code)))
    raw = as_dict(row)
    for key in ("primary_doses", "primary_interval_days", "booster_doses", "booster_interval_days"):
        if isinstance(raw[key], str) and raw[key].strip().isdigit():
            raw[key] = int(raw[key])
    try:
        product = vaccines.product_from_dict(raw)
    except RuleError as err:
        errors.append(err)
        product = None
    if errors:
        raise ValidationFailed(errors)
    return product


def after_save(session, row: VaccineProduct) -> None:
    """At most one default product: the one just saved as default wins."""
    if row.is_default:
        session.execute(update(VaccineProduct).where(VaccineProduct.id != row.id, VaccineProduct.is_default.is_(True))
                        .values(is_default=False))


def _deleted_codes(session) -> set[str]:
    stmt = select(AuditLog.before).where(AuditLog.action == "delete", AuditLog.entity == ENTITY)
    return {(before or {}).get("code") for before in session.execute(stmt).scalars()}


@operation
def load_file(session, path: Path | str = vaccines.DATA_PATH) -> int:
    """Insert the shipped products missing from the table (by code); returns how many.

    The file is parsed in full first, so a broken shipped file fails loudly. A shipped
    default is only marked default when no product in the table is default yet.
    """
    shipped = vaccines.load_products(path)
    data = json.loads(Path(path).read_text(encoding="utf-8"))["products"]
    existing = set(session.execute(select(VaccineProduct.code)).scalars())
    skip = existing | _deleted_codes(session)
    has_default = session.execute(select(VaccineProduct.id).where(VaccineProduct.is_default.is_(True))).first()
    added = 0
    for product, raw in zip(shipped, data):
        if product.code in skip:
            continue
        session.add(VaccineProduct(
            code=product.code, name=product.name, maker=product.maker or None,
            aliases=_aliases_text(raw.get("aliases")) or None,
            primary_doses=product.primary_doses, primary_interval_days=product.primary_interval_days,
            booster_doses=product.booster_doses, booster_interval_days=product.booster_interval_days,
            is_default=product.default and not has_default, active=True,
        ))
        has_default = has_default or product.default
        added += 1
    return added

