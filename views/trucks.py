"""货车司机管理 (seed 002): the registration of its screens, in one block.

The phone pages of drivers (views/driver_pages.py) and of the checkpoint
(views/checkpoint_pages.py); the ledgers and the phone lists of heads and towns follow.
"""
from __future__ import annotations

from app.domain.i18n import _
from views.checkpoint_pages import CheckpointView
from views.driver_pages import DriverView


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(DriverView)
    appbuilder.add_view(CheckpointView, "Checkpoint", label=_("扫码核验"), icon="fa-qrcode")
