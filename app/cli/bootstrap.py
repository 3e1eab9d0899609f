"""Reference data every install needs: roles, towns, bureaus, shipped enterprise types."""
from __future__ import annotations

import json
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.domain.enterprise_types import parse_declaration
from app.platform.extensions import db
from app.platform.operations import operation
from app.services.health.feeds.keys import ensure_current
from app.services.health.feeds.vaccine_products import load_file
from models.audit import AuditLog
from models.enterprise_types import EnterpriseType
from models.organisations import Bureau
from models.regions import Town

TYPES_FILE = Path(__file__).resolve().parents[2] / "data" / "enterprise_types.json"


def sync_roles() -> list[str]:
    """Create the role rows of app/security/roles.py (idempotent)."""
    sm = current_app.appbuilder.sm
    names = list(current_app.config["FAB_ROLES"].keys()) + [sm.auth_role_public]
    for name in names:
        if sm.find_role(name) is None:
            sm.add_role(name)
    return names


@operation
def sync_towns() -> int:
    """The configured towns exist, in the configured order (idempotent)."""
    existing = {t.name: t for t in db.session.execute(select(Town)).scalars()}
    for order, name in enumerate(current_app.config["DISTRICT_TOWNS"]):
        town = existing.get(name) or Town(name=name)
        town.sort_order = order
        db.session.add(town)
    db.session.flush()
    return len(current_app.config["DISTRICT_TOWNS"])


@operation
def load_enterprise_types(path: Path = TYPES_FILE) -> int:
    """Bureaus and enterprise types of the declarative file that are not in the database
    yet (matched by code); returns how many types were added.

    Insert-missing-only: a shipped type (or bureau) already present is left exactly as
    it is, so what the district admin changed in the UI (name, bureau, fields, active)
    survives every restart (``make run`` loads the demo data each time); a shipped type
    the admin deleted (audited) is not brought back, and one whose name the admin gave
    to another type is skipped. The file is still parsed in full, so a broken shipped
    file fails loudly.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    bureaus = {b.code: b for b in db.session.execute(select(Bureau)).scalars()}
    for row in data["bureaus"]:
        if row["code"] not in bureaus:
            bureaus[row["code"]] = Bureau(code=row["code"], name=row["name"])
            db.session.add(bureaus[row["code"]])
    db.session.flush()
    taken = {value for pair in db.session.execute(select(EnterpriseType.code, EnterpriseType.name))
             for value in pair}
    deleted = {(a.before or {}).get("code") for a in db.session.execute(
        select(AuditLog).where(AuditLog.action == "delete", AuditLog.entity == "EnterpriseType")).scalars()}
    added = 0
    for row in data["types"]:
        decl = parse_declaration(row["spec"])  # a broken shipped file fails loudly here
        if row["code"] in taken or row["name"] in taken or row["code"] in deleted:
            continue
        db.session.add(EnterpriseType(code=row["code"], name=row["name"],
                                      bureau_id=bureaus[row["bureau"]].id, spec=decl.to_dict()))
        added += 1
    db.session.flush()
    return added


@operation
def load_vaccine_products() -> int:
    """Shipped vaccine products (data/vaccine_products.json) missing from the table;
    never overwrites the admin's edits (app/services/health/feeds/vaccine_products.py)."""
    return load_file(db.session)


@operation
def bootstrap() -> None:
    """Roles, towns, shipped types and vaccine products, staff keys: one operation (idempotent)."""
    sync_roles()
    sync_towns()
    load_enterprise_types()
    load_vaccine_products()
    ensure_staff_keys()


@operation
def ensure_staff_keys() -> None:
    """Staff ID keys made with another ID_HASH_KEY (or none yet) are recomputed, with a
    warning in the log (app/services/health/feeds/keys.py)."""
    ensure_current(db.session)
