"""Reference and system tables guarded by their permission alone (the district admin's):
every holder of the resource's permission sees every row."""
from __future__ import annotations

from app.security.scope import register_unscoped
from models.audit import AuditLog
from models.notify import Message
from models.organisations import Bureau
from models.security_events import SecurityEvent
from models.vaccines import VaccineProduct

register_unscoped(Bureau, VaccineProduct, AuditLog, Message, SecurityEvent)
