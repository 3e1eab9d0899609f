"""Ownership: whether a user may touch something that belongs to one person rather
than to a scoped row — a background job, a stored file of an import.

* a job is read by the user who started it, or by a district admin;
* a failure workbook (and its kind) is read only by the user who ran the import.

Whatever a user may not read is answered exactly like what does not exist (None, or
:class:`~app.domain.errors.OutOfScope` → 404), so ids and tokens cannot be probed.
Rows (enterprises, staff, …) are decided by app/security/scope.py instead.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from app.platform.queue import job_status
from app.security import roles as R


def is_district_admin(user: Any) -> bool:
    return R.DISTRICT_ADMIN in {r.name for r in (getattr(user, "roles", None) or [])}


def may_read_job(user: Any, owner_id: Optional[int]) -> bool:
    """The user who started the job, or a district admin (None: nobody logged in)."""
    if user is None or getattr(user, "id", None) is None:
        return False
    return owner_id == user.id or is_district_admin(user)


def readable_job_status(job_id: str, user: Any) -> Optional[dict[str, Any]]:
    """``{"status", "progress", "result"}`` of a job ``user`` may read (see
    :func:`may_read_job`); None when it does not exist or belongs to someone else."""
    status = job_status(job_id)
    if status is None or not may_read_job(user, status.owner_id):
        return None
    return status.as_dict()


def may_read_import_file(owner: Mapping[str, Any], user_id: Any, kind: Optional[str] = None) -> bool:
    """Whether ``user_id`` ran the import that stored a file whose owner record is
    ``owner`` (``{"user_id", "kind"}``), and (when given) it is of ``kind``."""
    if user_id is None or owner.get("user_id") != user_id:
        return False
    return kind is None or owner.get("kind") == kind
