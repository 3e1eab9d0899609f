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
from views.base import ScopedApi


class JobsApi(ScopedApi):
    resource_name = "jobs"
    class_permission_name = R.JOBS

    @expose("/<job_id>", methods=["GET"])
    @protect()
    @permission_name("get")
    def get(self, job_id: str):
        """Status of a background job started by the caller.
        ---
        get:
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: string}}
          responses:
            200: {description: "{status: queued|started|finished|failed, progress: 0-100, result}"}
            401: {description: not logged in}
            404: {description: no such job, or started by someone else}
        """
        status = readable_job_status(job_id, g.user)
        if status is None:
            return self.response_404()
        return self.response(200, **status)
