"""Import jobs: a CSV uploaded in the console, checked and written by the worker in batches,
its progress kept here for the status page to show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from spoc.core.storage.db import JSONType, Model, UTCDateTime

QUEUED, CHECKING, WRITING, DONE, FAILED = "queued", "checking", "writing", "done", "failed"
RUNNING = (CHECKING, WRITING)


class ImportJob(Model):
    __tablename__ = "import_jobs"
    __table_args__ = (
        # The worker's next job: queued ones, and running ones whose worker stopped beating.
        Index("ix_import_jobs_status", "status", "heartbeat_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    what: Mapped[str] = mapped_column(String(16))  # subjects | contacts | structures
    key: Mapped[str] = mapped_column(String(64))  # the subject kind or structure; "" otherwise
    dry_run: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(12))
    file_name: Mapped[str] = mapped_column(String(200))
    stored_as: Mapped[str] = mapped_column(String(100))  # under the instance folder's imports/
    lines_total: Mapped[int] = mapped_column(Integer)
    checked: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    message: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200))
    # Raised by each claim: a worker whose claim was taken over stops at its next batch.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
