"""Starting an import from a request: small files now, large ones as an RQ job.

The upload is read once (``open_upload``): its rows are counted and, up to
``IMPORT_BACKGROUND_ROWS`` rows, imported from the same cells by the same importer.
Above that the upload is stored under the instance dir and ``jobs.imports.import_job``
is queued with ids and the upload's token; the caller polls ``GET /api/v1/jobs/<id>``.

Counting rows means loading every cell of the sheet (0.7 s for 100,000 rows, then
the job loads them again), so an upload above ``IMPORT_BACKGROUND_MB`` goes to the
job after the checks that read no cell (scope, size, format, zip bomb, encryption);
its header and row count are judged by the job, whose failure carries the message.
"""
from __future__ import annotations

from typing import Optional

from flask import current_app

from app.platform.queue import enqueue
from app.services.imports import check_upload, files, open_upload, run_upload

JOB = "jobs.imports.import_job"


def errors_url(kind: str, token: Optional[str]) -> Optional[str]:
    """Where the importing user downloads the failure workbook (JWT or session)."""
    return f"/api/v1/{kind}/import/errors/{token}" if token else None


def launch(session, scope, user, kind: str, data: bytes, filename: str, *,
           enterprise_id=None, enterprise_type=None, dry_run=False) -> dict:
    """``{"created", "updated", "failed", "errors_url", …}`` for a synchronous import,
    or ``{"job_id"}`` when the file is large. Raises as ``run_import`` does (the file
    and the enterprise are judged before anything is queued)."""
    threshold = int(current_app.config.get("IMPORT_BACKGROUND_ROWS") or 0)
    big = float(current_app.config.get("IMPORT_BACKGROUND_MB") or 0) * 1024 * 1024
    upload = None
    if threshold and big and len(data) > big:
        check_upload(session, scope, kind, data, enterprise_id=enterprise_id, enterprise_type=enterprise_type)
    else:  # read once: counted here, imported from the same cells if small enough
        upload = open_upload(session, scope, kind, data, filename,
                             enterprise_id=enterprise_id, enterprise_type=enterprise_type)
    if threshold and (upload is None or upload.count(stop=threshold) > threshold):
        token = files.save_upload(data).stem
        job_id = enqueue(JOB, kind, token, int(user.id), int(enterprise_id or 0),
                         str(enterprise_type or ""), int(bool(dry_run)),
                         job_kind=f"{kind}_import", user_id=user.id)
        return {"job_id": job_id}
    result = run_upload(session, upload, dry_run=dry_run, user=user)
    out = result.as_dict()
    out["errors_url"] = errors_url(kind, result.errors_token)
    return out
