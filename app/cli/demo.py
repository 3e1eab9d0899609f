"""Deterministic demo data (SPEC §9): accounts, ~20 enterprises, ~500 staff."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select
from stdnum.cn import ric

from app.cli.bootstrap import bootstrap
from app.platform.extensions import db
from app.platform.operations import operation, transaction
from app.security import roles as R
from app.services.health.feeds import ingest
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.organisations import Bureau
from models.regions import Grid, Town
from models.staff import Staff

# username, role, first name, linked bureau code / town name
ACCOUNTS = [
    ("admin", R.DISTRICT_ADMIN, "区管理员", None, None),
    ("bureau_port", R.BUREAU, "口岸办", "port", None),
    ("bureau_transport", R.BUREAU, "住建局/交通局", "transport", None),
    ("town_nansha", R.TOWN, "南沙街", None, "南沙街"),
    ("town_huangge", R.TOWN, "黄阁镇", None, "黄阁镇"),
    ("taskforce", R.TASKFORCE, "专班", None, None),
    ("checkpoint", R.CHECKPOINT, "卡口", None, None),
    ("feed", R.FEED, "数据接口", None, None),
    ("unit_admin", R.UNIT_ADMIN, "单位管理员", None, None),
    ("institution_admin", R.INSTITUTION_ADMIN, "机构管理员", None, None),
]

SURNAMES = "李王张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯鹏辉俊帅"
DEMO_HEAD_PHONE = "13800138000"  # heads one demo enterprise per town type mix; listed in README


def make_id_number(rng: random.Random, area: str = "440115") -> str:
    birth = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 38))
    body = f"{area}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def _user(username, role_name, first_name, bureau=None, town=None):
    sm = current_app.appbuilder.sm
    user = sm.find_user(username=username)
    if user is None:
        user = sm.add_user(
            username=username, first_name=first_name, last_name="", email=f"{username}@sentinel.invalid",
            role=sm.find_role(role_name), password=current_app.config["DEMO_PASSWORD"],
        )
    user.bureau_id = bureau.id if bureau else None
    user.town_id = town.id if town else None
    db.session.flush()
    return user


@operation
def load_demo(enterprises: int = 20, staff_per_enterprise: int = 25) -> dict:
    """Idempotent: accounts are upserted; enterprises and staff only when none exist."""
    bootstrap()
    bureaus = {b.code: b for b in db.session.execute(select(Bureau)).scalars()}
    towns = {t.name: t for t in db.session.execute(select(Town)).scalars()}
    for username, role_name, first_name, bureau_code, town_name in ACCOUNTS:
        _user(username, role_name, first_name, bureaus.get(bureau_code), towns.get(town_name))
    for town in towns.values():
        if not town.grids:
            for n in (1, 2):
                db.session.add(Grid(town_id=town.id, name=f"{town.name}第{n}网格"))
    db.session.flush()
    if db.session.execute(select(func.count(Enterprise.id))).scalar_one():
        return {"enterprises": 0, "staff": 0}

    rng = random.Random(2026)
    # Demo staff were registered a month ago: the testing rules judge them from day one
    # (a person registered fewer than a rule's D days ago is not reported yet).
    registered = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=30)
    types = list(db.session.execute(select(EnterpriseType).order_by(EnterpriseType.id)).scalars())
    town_list = [t for t in towns.values() if t.name != "其他"]
    created_staff = 0
    for i in range(enterprises):
        etype = types[i % len(types)]
        town = town_list[i % len(town_list)]
        phone = DEMO_HEAD_PHONE if i in (0, 5) else f"139{i:08d}"
        enterprise = Enterprise(
            name=f"{town.name}{etype.name[:2]}示范企业{i + 1:02d}", type_id=etype.id, town_id=town.id,
            grid_id=town.grids[0].id if town.grids else None, address=f"广州市南沙区{town.name}示范路{i + 1}号",
            head_name=rng.choice(SURNAMES) + rng.choice(GIVEN), head_phone=phone, extras={},
        )
        db.session.add(enterprise)
        db.session.flush()
        spec = etype.spec or {}
        seen = set()
        for _ in range(staff_per_enterprise):
            number = make_id_number(rng)
            if number in seen:
                continue
            seen.add(number)
            db.session.add(Staff(
                enterprise_id=enterprise.id, name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                id_type="居民身份证", id_number=number, phone=f"13{rng.randrange(10**8, 10**9):09d}",
                category=(spec.get("categories") or [None])[0],
                worker_kind=rng.choice(spec.get("worker_kinds") or [None]),
                residence_type=rng.choice(spec.get("residence_types") or [None]),
                address=f"广州市南沙区{town.name}", extras={}, created_at=registered, updated_at=registered,
            ))
            created_staff += 1
    db.session.flush()
    load_demo_health(rng)
    return {"enterprises": enterprises, "staff": created_staff}


# Share of demo staff per test age (hours before the load), then untested (未匹配).
_DEMO_TEST_AGES = ((0.80, 20), (0.08, 40), (0.05, 64), (0.04, 120))


def load_demo_health(rng: random.Random) -> dict:
    """Test and vaccination records for the demo staff, sent through the real feed ingest
    (so summaries and tallies are built as in production). Times are relative to the load:
    most people tested within 24 hours, some 48/72/over 72 hours ago, the rest unmatched."""
    now = datetime.now(timezone.utc)
    numbers = list(db.session.execute(select(Staff.id_number).order_by(Staff.id)).scalars())
    tests, vaccinations = [], []
    for number in numbers:
        draw, threshold = rng.random(), 0.0
        for share, hours in _DEMO_TEST_AGES:
            threshold += share
            if draw < threshold:
                for day in range(0, 7, 2):  # a test every other day before the latest one
                    sampled = now - timedelta(hours=hours + 24 * day + rng.random() * 4)
                    tests.append({"id_number": number, "sampled_at": sampled.isoformat(timespec="minutes"),
                                  "tested_at": (sampled + timedelta(hours=6)).isoformat(timespec="minutes"),
                                  "result": "阴性", "institution": "南沙区疾控中心"})
                break
        doses = rng.choice((0, 1, 2, 2, 3, 3, 3))
        for dose in range(1, doses + 1):
            day = (now - timedelta(days=400 - 120 * dose)).date()
            vaccinations.append({"id_number": number, "dose": dose, "vaccinated_at": day.isoformat(),
                                 "product": "北京生物新冠病毒灭活疫苗", "site": "南沙区接种点"})
    counts = {}
    for kind, rows in ((ingest.TESTS, tests), (ingest.VACCINATIONS, vaccinations)):
        result = ingest.ingest_rows(db.session, kind, list(enumerate(rows, start=1)), source="demo")
        counts[kind] = result.stored
    return counts


# Demo alert settings (告警设置) of two types nobody's tests configure, so 未按规定检测 and
# its counts have something to show: today's check runs at once; the 9 o'clock alerts go
# out on schedule (or by hand: flask --app run jobs run rules.alerts).
DEMO_RULES = (("cold_chain", "3d2"), ("construction", "7d3"))
DEMO_RULE_RECIPIENTS = ("town_nansha", "town_huangge", "bureau_port", "bureau_transport")


def load_demo_rules() -> dict:
    """Idempotent: a setting is added only to a type that has none; then today's check."""
    from app.services.rules.evaluate import evaluate
    from models.rules import AlertSetting
    from models.users import SentinelUser

    users = db.session.execute(select(SentinelUser.id).where(
        SentinelUser.username.in_(DEMO_RULE_RECIPIENTS)).order_by(SentinelUser.id)).scalars().all()
    added = 0
    with transaction(db.session):  # the demo rows loaded before, and the settings
        for code, rule in DEMO_RULES:
            etype = db.session.execute(select(EnterpriseType).where(EnterpriseType.code == code)).scalar_one_or_none()
            if etype is None or db.session.execute(
                    select(AlertSetting.id).where(AlertSetting.type_id == etype.id)).first():
                continue
            db.session.add(AlertSetting(type_id=etype.id, category=None, rule=rule, active=True,
                                        recipients=[{"user_id": user_id} for user_id in users]))
            added += 1
    checked = evaluate(db.session)
    return {"alert_settings": added, "broken": checked["broken"]}
