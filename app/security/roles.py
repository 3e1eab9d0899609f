"""Roles and their permissions, as data (SPEC §1).

Each role maps resources to access: ``r`` read, ``w`` write. Views and APIs declare
``class_permission_name = <resource>`` and map their methods onto ``read``/``write``,
so a role needs two permissions per resource, not six. ``fab_roles()`` turns this
table into Flask-AppBuilder's builtin roles (checked in memory, no permission rows);
``flask --app run roles sync`` creates the role rows, idempotently.
"""
from __future__ import annotations

from flask_babel import gettext

DISTRICT_ADMIN = "district_admin"
BUREAU = "bureau"
TOWN = "town"
ENTERPRISE_HEAD = "enterprise_head"
TASKFORCE = "taskforce"
CHECKPOINT = "checkpoint"
FEED = "feed"
UNIT_ADMIN = "unit_admin"
INSTITUTION_ADMIN = "institution_admin"
PUBLIC = "public"

# Resources (the permission vocabulary)
ENTERPRISE = "Enterprise"
STAFF = "Staff"
ENTERPRISE_TYPE = "EnterpriseType"
REGION = "Region"
JOBS = "Jobs"
STATISTICS = "Statistics"
FEEDS = "Feeds"
CHECKPOINT_SCAN = "Checkpoint"
WORKFORCE = "Workforce"
OUTBOX = "Outbox"
AUDIT = "Audit"
VACCINE_PRODUCT = "VaccineProduct"  # district admin only
ACCOUNT = "Account"  # own profile, password change (every role with a password)
ALERT_SETTING = "AlertSetting"  # 告警设置: district admin, bureaus for their types
COMPLIANCE = "Compliance"  # 未按规定检测: the nightly check's results, scoped like staff
PERSONAL_DATA = "PersonalData"  # full ID numbers and phones in exports (app/security/personal_data.py)
BOOKING = "Booking"  # 预约和通行记录: bookings and passes in scope (read only; drivers book in public)
CHECKPOINT_SETTING = "CheckpointSetting"  # 告警设置 of the checkpoint: district admin, transport bureau

# Scope dimensions (app/security/scope.py; each module declares its own in
# app/security/policies/). A role sees EVERYTHING, rows along one dimension, or none.
EVERYTHING = "*"
DIM_TOWN = "town"
DIM_BUREAU = "bureau"
DIM_HEAD_PHONE = "head_phone"

ROLE_DIMENSIONS: dict[str, str] = {
    DISTRICT_ADMIN: EVERYTHING,
    TASKFORCE: EVERYTHING,
    BUREAU: DIM_BUREAU,
    TOWN: DIM_TOWN,
    ENTERPRISE_HEAD: DIM_HEAD_PHONE,
}

ROLE_PERMISSIONS: dict[str, dict[str, str]] = {
    BUREAU: {ENTERPRISE: "rw", STAFF: "rw", JOBS: "r", STATISTICS: "r", ACCOUNT: "rw", PERSONAL_DATA: "r",
             ALERT_SETTING: "rw", COMPLIANCE: "r", BOOKING: "r", CHECKPOINT_SETTING: "rw"},
    TOWN: {ENTERPRISE: "rw", STAFF: "rw", JOBS: "r", STATISTICS: "r", ACCOUNT: "rw", PERSONAL_DATA: "r",
           COMPLIANCE: "r", BOOKING: "r"},
    ENTERPRISE_HEAD: {ENTERPRISE: "r", STAFF: "rw", JOBS: "r", PERSONAL_DATA: "r", COMPLIANCE: "r", BOOKING: "r"},
    TASKFORCE: {STATISTICS: "r", ACCOUNT: "rw", COMPLIANCE: "r", BOOKING: "r"},
    CHECKPOINT: {CHECKPOINT_SCAN: "rw", ACCOUNT: "rw"},
    FEED: {FEEDS: "w", ACCOUNT: "rw"},
    UNIT_ADMIN: {WORKFORCE: "rw", ACCOUNT: "rw"},
    INSTITUTION_ADMIN: {WORKFORCE: "rw", ACCOUNT: "rw"},
    PUBLIC: {},
}


def N_(text: str) -> str:
    """Marks a label for the Babel catalog; the page translates it when it renders."""
    return text


# Human names, shown in the user admin (translated through Babel at render time).
ROLE_LABELS = {
    DISTRICT_ADMIN: N_("区管理员"),
    BUREAU: N_("委办局"),
    TOWN: N_("镇街"),
    ENTERPRISE_HEAD: N_("企业负责人"),
    TASKFORCE: N_("专班"),
    CHECKPOINT: N_("卡口工作人员"),
    FEED: N_("数据接口"),
    UNIT_ADMIN: N_("单位管理员"),
    INSTITUTION_ADMIN: N_("机构管理员"),
}


def role_label(name: str) -> str:
    """A role's human name in the user's language (the bare name for a role not listed)."""
    label = ROLE_LABELS.get(name)
    return gettext(label) if label else name


# Menus each resource appears under; read access to a resource opens its menus.
RESOURCE_MENUS: dict[str, tuple[str, ...]] = {
    ENTERPRISE: ("Registry", "Enterprises", "Trucks", "FreightEnterprises"),
    STAFF: ("Registry", "Staff", "UnmatchedStaff", "Trucks", "TruckDrivers", "TruckDriversPhone"),
    STATISTICS: ("Statistics", "TestStats", "VaccineStats"),
    ALERT_SETTING: ("Alerts", "AlertSettings"),
    COMPLIANCE: ("Alerts", "Noncompliant"),
    CHECKPOINT_SCAN: ("Checkpoint",),
    BOOKING: ("Trucks", "BookingRecords", "BookingsPhone"),
    CHECKPOINT_SETTING: ("Trucks", "CheckpointRecipients"),
    WORKFORCE: ("Workforce",),
    ACCOUNT: ("Alerts", "Inbox"),
}

# Beside ACCOUNT's own views (修改密码, 修改姓名: app/security/account_views.py), what an
# account holder may use of the admin's user view: their own 用户信息 page and its two
# buttons; and the language menu.
_ACCOUNT_VIEWS = [
    ["^SentinelUserDBModelView$", "^(can_userinfo|resetmypassword|userinfoedit)$"],
    ["Locale", "can_(index|locale)"],
]


def fab_roles() -> dict[str, list[list[str]]]:
    """FAB_ROLES: builtin role → [[view-menu regex, permission regex], …]."""
    roles: dict[str, list[list[str]]] = {DISTRICT_ADMIN: [[".*", ".*"]]}
    for role, grants in ROLE_PERMISSIONS.items():
        pvms: list[list[str]] = []
        for resource, access in grants.items():
            if resource == ACCOUNT:
                pvms.extend(_ACCOUNT_VIEWS)
            if "r" in access:
                pvms.append([f"^{resource}$", "^can_read$"])
            if "w" in access:
                pvms.append([f"^{resource}$", "^can_write$"])
            for menu in RESOURCE_MENUS.get(resource, ()):
                pvms.append([f"^{menu}$", "^menu_access$"])
        roles[role] = pvms
    return roles


def has_grant(role: str, resource: str, access: str) -> bool:
    """Whether ``role`` holds ``access`` ('r' or 'w') on ``resource`` (pure lookup)."""
    if role == DISTRICT_ADMIN:
        return True
    return access in ROLE_PERMISSIONS.get(role, {}).get(resource, "")
