"""GET /api/v1/jobs/<job_id> → {"status", "progress", "result"} of a background job.

Only the user who started the job (or a district admin) sees it; anyone else gets
404, exactly as for a job that does not exist.
"""
from __future__ import annotations

from flask import g
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import permission_name, protect

from app.security import roles as R
from app.security.ownership import readable_job_status
from views import openapi as doc
from views.base import ScopedApi

JOB_STATUS = doc.obj({
    "status": {"type": "string", "enum": ["queued", "started", "finished", "failed"]},
    "progress": {"type": "integer", "minimum": 0, "maximum": 100},
    "result": doc.nullable({"type": "object", "description": "What the job returned (an import: its summary); "
                                                            "a failed job: {error}"}),
}, required=("status", "progress", "result"))


class JobsApi(ScopedApi):
    resource_name = "jobs"
    class_permission_name = R.JOBS
    openapi_spec_tag = "Jobs"
    openapi_components = {"JobStatus": JOB_STATUS}

    @expose("/<job_id>", methods=["GET"])
    @protect()
    @permission_name("get")
    @doc.describe(doc.answer(doc.ref("JobStatus"), "Status, progress and result"), errors=(404,))
    def get(self, job_id: str):
        """Status of a background job started by the caller.

        A job that does not exist, or that someone else started, is a 404."""
        status = readable_job_status(job_id, g.user)
        if status is None:
            return self.response_404()
        return self.response(200, **status)
