"""Large console imports run as jobs: the upload is kept, the worker checks and writes it in
batches, and the job's row says how far it got, for the status page's progress bar.

The upload is kept in the file store (where attachments are: every worker reads it, on one
machine or many) under a random key of its own, and deleted when the job ends. A worker
claims a job with a conditional UPDATE (queued, or running with a heartbeat older than
:data:`STALE`: its worker stopped). Each batch checked or written beats the heartbeat in a
transaction of its own, guarded by the claim: a worker whose job was taken over stops at its
next batch. A job taken over runs again from the start; the imports are idempotent by key
(subjects by kind and reference, contacts by email, plugins' items by their key), so the
batches the stopped worker wrote are found and updated to the same values, never doubled.
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
import tempfile
from collections.abc import Callable
from datetime import timedelta
from typing import IO

from sqlalchemy import and_, or_, select, update

from spoc.core.domain.contacts import ContactDirectory
from spoc.core.domain.imports import ImportReport, ProgressFn
from spoc.core.domain.models import Agent, ImportJob
from spoc.core.domain.models.imports import CHECKING, DONE, FAILED, QUEUED, RUNNING, WRITING
from spoc.core.domain.onboarding import Onboarding
from spoc.core.domain.structures import StructureService
from spoc.core.domain.writes import ServiceBase, ServiceDeps
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, SpocError, ValidationFailed
from spoc.core.kernel.types import Actor, Role

STALE = timedelta(minutes=5)  # a running job's worker is taken to have stopped
KEPT_ERRORS = 1000
WHATS = ("subjects", "contacts", "structures")
log = logging.getLogger(__name__)

Run = Callable[[IO[str], ProgressFn, ProgressFn], ImportReport]


class _TakenOver(Exception):
    """Another worker claimed this job (ours had stopped beating): stop here."""


def count_lines(stream: IO[bytes]) -> int:
    """The CSV's lines after the header (blank ones not counted), reading ``stream`` once and
    leaving it at its start."""
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        rows = sum(1 for row in csv.reader(text) if any(c.strip() for c in row))
    except (csv.Error, UnicodeDecodeError):
        rows = 0  # the import itself says what is wrong with the file
    finally:
        text.detach()
    stream.seek(0)
    return max(rows - 1, 0)


class ImportJobs(ServiceBase):
    def __init__(
        self,
        deps: ServiceDeps,
        *,
        onboarding: Onboarding,
        contacts: ContactDirectory,
        structures: StructureService,
    ) -> None:
        super().__init__(deps)
        self.onboarding = onboarding
        self.contacts = contacts
        self.structures = structures

    def submit(
        self,
        actor: Actor,
        what: str,
        key: str,
        upload: IO[bytes],
        *,
        file_name: str,
        dry_run: bool,
    ) -> ImportJob:
        """Keep the upload and queue its import for the worker. ``what`` is ``subjects``
        (``key``: the kind), ``contacts`` or ``structures`` (``key``: the structure)."""
        self.require_staff(actor, "import", (Role.ADMIN,))
        if what not in WHATS:
            raise ValidationFailed("invalid import", {"what": f"one of {', '.join(WHATS)}"})
        if what == "subjects" and key not in self.host.subject_kinds:
            raise ValidationFailed("invalid import", {"kind": f"no subject kind {key!r}"})
        if what == "structures":
            self.structures.structure(key)
        total = count_lines(upload)
        data = upload.read()  # bounded by the request size (MAX_CONTENT_LENGTH)
        # A random key, not the content's: deleting it later never touches an attachment.
        stored_as = secrets.token_hex(32)
        self.deps.files.put(stored_as, data)
        with self.db.transaction() as session:
            job = ImportJob(
                what=what,
                key=key if what != "contacts" else "",
                dry_run=dry_run,
                status=QUEUED,
                file_name=file_name[:200],
                stored_as=stored_as,
                lines_total=total,
                checked=0,
                written=0,
                created=0,
                updated=0,
                error_count=0,
                errors=[],
                actor_id=actor.id,
                actor_name=(actor.name or actor.kind.value)[:200],
                attempts=0,
                created_at=self.clock.now(),
            )
            session.add(job)
        return job

    def get(self, actor: Actor, job_id: int) -> ImportJob:
        """One job, for its status page (imports are for admins)."""
        self.require_staff(actor, "see imports", (Role.ADMIN,))
        with self.db.reader() as session:
            job = session.get(ImportJob, job_id)
        if job is None:
            raise NotFoundError(f"no import {job_id}")
        return job

    def run_next(self) -> bool:
        """Claim and run one job (the worker's task); ``True`` when one ran."""
        claimed = self._claim()
        if claimed is None:
            return False
        job_id, attempt = claimed
        with self.db.reader() as session:
            job = session.get(ImportJob, job_id)
            assert job is not None
        try:
            with self._file(job.stored_as) as stream:
                report = self._runner(job)(
                    stream,
                    lambda n: self._beat(job_id, attempt, WRITING, written=n),
                    lambda n: self._beat(job_id, attempt, CHECKING, checked=n),
                )
        except _TakenOver:
            return True
        except SpocError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "errors", {}).items())
            self._finish(job_id, attempt, FAILED, message=f"{exc}{': ' if detail else ''}{detail}")
        except Exception:
            log.exception("import %s failed", job_id)
            self._finish(job_id, attempt, FAILED, message="failed unexpectedly; upload it again")
        else:
            self._finish(job_id, attempt, DONE, report=report)
        self._forget(job.stored_as)
        return True

    def _file(self, key: str) -> IO[str]:
        """The upload as a seekable text stream (spooled to disk past a few MB)."""
        spool = tempfile.SpooledTemporaryFile(max_size=4 << 20)  # noqa: SIM115 - returned
        spool.write(self.deps.files.open(key))
        spool.seek(0)
        return io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")

    def _forget(self, key: str) -> None:
        """The upload holds personal data: deleted when its job ends; the row keeps the
        outcome."""
        self.deps.files.delete(key)

    # --- the parts --------------------------------------------------------------------------

    def _actor(self, job: ImportJob) -> Actor:
        """Who uploaded it, as they are now: an admin since demoted may not import."""
        if job.actor_id is None:
            return Actor.system(job.actor_name)
        with self.db.reader() as session:
            agent = session.get(Agent, job.actor_id)
        if agent is None or not agent.active:
            raise PermissionDenied(f"{job.actor_name} may no longer import")
        return Actor.agent(agent.id, agent.role, agent.name)

    def _runner(self, job: ImportJob) -> Run:
        actor = self._actor(job)
        if job.what == "contacts":
            return lambda s, written, checked: self.contacts.import_csv(
                actor, s, dry_run=job.dry_run, progress=written, checking=checked
            )
        if job.what == "structures":
            return lambda s, written, checked: self.structures.import_csv(
                actor, job.key, s, dry_run=job.dry_run, progress=written, checking=checked
            )
        return lambda s, written, checked: self.onboarding.import_csv(
            actor, job.key, s, dry_run=job.dry_run, progress=written, checking=checked
        )

    def _claim(self) -> tuple[int, int] | None:
        now = self.clock.now()
        claimable = or_(
            ImportJob.status == QUEUED,
            and_(ImportJob.status.in_(RUNNING), ImportJob.heartbeat_at < now - STALE),
        )
        with self.db.transaction() as session:
            found = session.execute(
                select(ImportJob.id, ImportJob.attempts)
                .where(claimable)
                .order_by(ImportJob.id)
                .limit(1)
            ).first()
            if found is None:
                return None
            job_id, attempts = found
            taken = session.execute(
                update(ImportJob)
                .where(ImportJob.id == job_id, ImportJob.attempts == attempts, claimable)
                .values(
                    status=CHECKING, attempts=attempts + 1, heartbeat_at=now, checked=0, written=0
                )
            )
        if not taken.rowcount:  # type: ignore[attr-defined]
            return None  # another worker was first; the next pass looks again
        return job_id, attempts + 1

    def _beat(self, job_id: int, attempt: int, status: str, **counts: int) -> None:
        with self.db.transaction() as session:
            done = session.execute(
                update(ImportJob)
                .where(ImportJob.id == job_id, ImportJob.attempts == attempt)
                .values(status=status, heartbeat_at=self.clock.now(), **counts)
            )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise _TakenOver

    def _finish(
        self,
        job_id: int,
        attempt: int,
        status: str,
        *,
        report: ImportReport | None = None,
        message: str | None = None,
    ) -> None:
        values: dict[str, object] = {
            "status": status,
            "finished_at": self.clock.now(),
            "message": message[:500] if message else None,
        }
        if report is not None:
            values.update(
                checked=report.lines,
                written=0 if report.dry_run or not report.ok else report.lines,
                created=report.created,
                updated=report.updated,
                error_count=report.error_count,
                errors=[
                    {"line": e.line, "field": e.field, "message": e.message}
                    for e in report.errors[:KEPT_ERRORS]
                ],
            )
        with self.db.transaction() as session:
            session.execute(
                update(ImportJob)
                .where(ImportJob.id == job_id, ImportJob.attempts == attempt)
                .values(**values)
            )
