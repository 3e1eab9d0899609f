"""Reference data every install needs: roles, towns, bureaus, shipped enterprise types."""
from __future__ import annotations

import json
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.domain.enterprise_types import parse_declaration
from app.extensions import db
from models.enterprise_types import EnterpriseType
from models.organisations import Bureau
from models.regions import Town

TYPES_FILE = Path(__file__).resolve().parent.parent / "data" / "enterprise_types.json"


def sync_roles() -> list[str]:
    """Create the role rows of app/security/roles.py (idempotent)."""
    sm = current_app.appbuilder.sm
    names = list(current_app.config["FAB_ROLES"].keys()) + [sm.auth_role_public]
    for name in names:
        if sm.find_role(name) is None:
            sm.add_role(name)
    return names


def sync_towns() -> int:
    """The configured towns exist, in the configured order (idempotent)."""
    existing = {t.name: t for t in db.session.execute(select(Town)).scalars()}
    for order, name in enumerate(current_app.config["DISTRICT_TOWNS"]):
        town = existing.get(name) or Town(name=name)
        town.sort_order = order
        db.session.add(town)
    db.session.commit()
    return len(current_app.config["DISTRICT_TOWNS"])


def load_enterprise_types(path: Path = TYPES_FILE) -> int:
    """Bureaus and enterprise types from the declarative file (idempotent upsert)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    bureaus = {}
    for row in data["bureaus"]:
        bureau = db.session.execute(select(Bureau).where(Bureau.code == row["code"])).scalar_one_or_none()
        bureau = bureau or Bureau(code=row["code"])
        bureau.name = row["name"]
        db.session.add(bureau)
        bureaus[row["code"]] = bureau
    db.session.flush()
    for row in data["types"]:
        decl = parse_declaration(row["spec"])  # a broken shipped file fails loudly here
        etype = db.session.execute(select(EnterpriseType).where(EnterpriseType.code == row["code"])).scalar_one_or_none()
        etype = etype or EnterpriseType(code=row["code"])
        etype.name = row["name"]
        etype.bureau_id = bureaus[row["bureau"]].id
        etype.spec = decl.to_dict()
        db.session.add(etype)
    db.session.commit()
    return len(data["types"])


def bootstrap() -> None:
    sync_roles()
    sync_towns()
    load_enterprise_types()
