"""Large uploads become import jobs for the worker, and their status page: a ``<progress>``
bar of the lines checked, then written. Without JavaScript the page refreshes itself every
two seconds while the job runs; with it, ``import-progress.js`` polls the job's JSON and moves
the bar in place, reloading once the job ends to list the errors."""

from __future__ import annotations

from typing import IO

from flask import Response, abort, jsonify, redirect, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from spoc.core.domain.import_jobs import count_lines
from spoc.core.domain.models import ImportJob
from spoc.core.domain.models.imports import DONE, FAILED
from spoc.core.kernel.errors import NotFoundError
from spoc.core.kernel.types import Role
from spoc.core.services import spoc_of
from spoc.core.web.console.auth import actor, bp, role_required

IN_REQUEST = 500  # lines: one batch answers at once; more go to the worker with a live bar


def queued(
    what: str, key: str, upload: IO[bytes], file_name: str, dry_run: bool
) -> WerkzeugResponse | None:
    """A redirect to the job's status page when the upload is too large to answer at once,
    else ``None`` (the caller imports it in the request, as before)."""
    if count_lines(upload) <= IN_REQUEST:
        return None
    job = spoc_of().imports.submit(actor(), what, key, upload, file_name=file_name, dry_run=dry_run)
    return redirect(url_for("console.import_job", job_id=job.id), code=303)


def _job(job_id: int) -> ImportJob:
    try:
        return spoc_of().imports.get(actor(), job_id)
    except NotFoundError:
        abort(404)


def _state(job: ImportJob) -> dict[str, object]:
    writing = job.status in ("writing", DONE) and not job.dry_run and job.error_count == 0
    return {
        "status": job.status,
        "finished": job.status in (DONE, FAILED),
        "max": job.lines_total or 1,
        "value": job.written if writing else job.checked,
        "phase": "written" if writing else "checked",
        "text": f"{job.written if writing else job.checked} of {job.lines_total} lines "
        f"{'written' if writing else 'checked'}",
    }


@bp.get("/imports/<int:job_id>")
@role_required(Role.ADMIN)
def import_job(job_id: int) -> str:
    job = _job(job_id)
    return render_template("console/import_job.html", job=job, state=_state(job))


@bp.get("/imports/<int:job_id>.json")
@role_required(Role.ADMIN)
def import_job_state(job_id: int) -> Response:
    return jsonify(_state(_job(job_id)))
