"""The admin audit trail: who changed who may see what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from spoc.core.domain.models.columns import enum_column
from spoc.core.kernel.types import ActorKind
from spoc.core.storage.db import JSONType, Model, UTCDateTime


class AdminAuditEntry(Model):
    """One change of who may do or see what: agents, roles, teams, SPOC and deputies, tokens,
    absences, break-glass reads. Append-only; written in the transaction of the change."""

    __tablename__ = "admin_audit"
    __table_args__ = (
        # The console page: newest first, optionally one action or one actor.
        Index("ix_admin_audit_at", "at", "id"),
        Index("ix_admin_audit_action_at", "action", "at"),
        Index("ix_admin_audit_actor_at", "actor_id", "at"),
        # "Who changed this subject / agent lately": the recent-change rule of access checks.
        Index("ix_admin_audit_target", "target_kind", "target_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind, "admin_audit_actor_kind"))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(500))
    before: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
