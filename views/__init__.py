"""The only place that registers views and builds menus."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _

from views import locale
from views.admin import AUDIT_LOG, OUTBOX, SECURITY_EVENTS, snapshot_items
from views.alerts import ALERT_SETTINGS
from views.compliance import ComplianceApi, ComplianceView
from views.enterprise_types import ENTERPRISE_TYPES
from views.feeds_api import FeedsApi
from views.feeds_upload import FeedUploadView
from views.files import FilesView
from views.head import HeadView
from views.home import DashboardView
from views.identity_api import IdentityApi
from views.imports import register as register_imports
from views.inbox import InboxView
from views.jobs_api import JobsApi
from views.registry import ENTERPRISES, STAFF
from views.stats import register as register_stats
from views.regions import BUREAUS, GRIDS, TOWNS
from views.resources import register_resource
from views.vaccine_products import VACCINE_PRODUCTS
from views import trucks as truck_screens


def register_views(appbuilder) -> None:
    locale.install(current_app)  # the language menu returns to the page it was picked on
    # 台账管理: enterprises and staff, declared resources (views/registry.py)
    register_resource(appbuilder, ENTERPRISES)
    register_resource(appbuilder, STAFF)
    # 未匹配人员: the staff list filtered to bucket=unmatched (self-check hints, export).
    appbuilder.add_link("UnmatchedStaff", href="/staff/?bucket=unmatched", label=_("未匹配人员"),
                        category="Registry", icon="fa-question-circle")

    for resource in (TOWNS, GRIDS, BUREAUS, AUDIT_LOG, SECURITY_EVENTS, OUTBOX):
        register_resource(appbuilder, resource)
    current_app.jinja_env.globals["snapshot_items"] = snapshot_items  # 审计日志's 修改前 / 修改后

    # Enterprise types (主体类型): declarative data edited by the district admin.
    register_resource(appbuilder, ENTERPRISE_TYPES)

    # Health feeds (views/feeds_api.py): the 数据接口 role pushes test/vaccination records.
    appbuilder.add_api(FeedsApi)
    appbuilder.add_view(FeedUploadView, "FeedUpload", label=_("健康数据导入"), icon="fa-upload",
                        category="Admin", category_label=_("系统管理"), category_icon="fa-cogs")

    appbuilder.add_view_no_menu(FilesView)
    appbuilder.add_api(JobsApi)

    # Templates and imports of the registry (views/imports.py).
    register_imports(appbuilder)

    # Enterprise heads: SMS-code login, choice of enterprise, home (views/head.py).
    appbuilder.add_view_no_menu(HeadView)
    # 首页 of town, bureau and district admin users (views/home.py; the index sends them there).
    appbuilder.add_view_no_menu(DashboardView)
    # One phone identity (SMS code) for heads, drivers, employees, testing workers.
    appbuilder.add_api(IdentityApi)

    # 统计分析 (views/stats.py) and 系统管理 → 疫苗产品 (views/vaccine_products.py).
    register_stats(appbuilder)
    register_resource(appbuilder, VACCINE_PRODUCTS)

    # 核酸告警 (views/alerts.py): 告警设置 and the 未按规定检测 list.
    register_resource(appbuilder, ALERT_SETTINGS)
    appbuilder.add_view(ComplianceView, "Noncompliant", label=_("未按规定检测"), icon="fa-exclamation-triangle",
                        category="Alerts", category_label=_("核酸告警"), category_icon="fa-bell")
    appbuilder.add_api(ComplianceApi)
    appbuilder.add_view(InboxView, "Inbox", label=_("站内消息"), icon="fa-inbox",
                        category="Alerts", category_label=_("核酸告警"), category_icon="fa-bell")

    # --- 货车司机管理 core (issue 15): bookings, passes, checkpoint APIs -----------------
    register_driver_apis(appbuilder)

    # --- 货车司机管理 (issue 15, the screens: views/trucks.py) -----------------------
    truck_screens.register(appbuilder)


def register_driver_apis(appbuilder) -> None:
    """The drivers' and checkpoints' APIs (views/bookings_api.py, views/checkpoint_api.py)
    and the QR and image routes (views/passes.py). ``POST /api/v1/bookings/`` is limited per
    client address (``BOOKING_RATE_LIMIT``, read at each request)."""
    from flask import current_app, request

    from views.bookings_api import MSG_RATE, BookingsApi
    from views.checkpoint_api import CheckpointApi, CheckpointRecipientsAliasApi
    from views.passes import PassView

    appbuilder.add_api(BookingsApi)
    appbuilder.add_api(CheckpointApi)
    appbuilder.add_api(CheckpointRecipientsAliasApi)
    appbuilder.add_view_no_menu(PassView)
    api = next(v for v in appbuilder.baseviews if isinstance(v, BookingsApi))
    appbuilder.sm.limiter.limit(
        lambda: current_app.config["BOOKING_RATE_LIMIT"], methods=["POST"], scope="booking",
        error_message=lambda: str(MSG_RATE), exempt_when=lambda: request.endpoint != f"{api.endpoint}.create",
    )(api.blueprint)
