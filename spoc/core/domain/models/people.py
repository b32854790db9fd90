"""Teams, agents and their absences, contacts, subjects and their deputies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spoc.core.domain.models.columns import enum_column
from spoc.core.kernel.types import Role
from spoc.core.storage.db import JSONType, Model, UTCDateTime


class Team(Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # How requests and escalations reaching the team get a person: "none" (the team holds
    # them), "round_robin" or "least_open"; at most ``assignment_cap`` open requests each.
    assignment: Mapped[str] = mapped_column(String(16), default="none")
    assignment_cap: Mapped[int | None] = mapped_column(Integer)
    last_assigned_agent_id: Mapped[int | None] = mapped_column(Integer)

    members: Mapped[list[Agent]] = relationship(
        secondary="team_members", back_populates="teams", order_by="Agent.name"
    )


class TeamMember(Model):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Agent(Model):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "agent_role"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    teams: Mapped[list[Team]] = relationship(
        secondary="team_members", back_populates="members", order_by="Team.name"
    )


class Absence(Model):
    """An agent is away from ``starts_on`` to ``ends_on`` inclusive (organisation dates)."""

    __tablename__ = "absences"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        Index("ix_absences_agent_period", "agent_id", "ends_on", "starts_on"),
        # The sweep's "whose absence began, whose ended" (both a short range of the index).
        Index("ix_absences_cover_start", "cover_started_at", "starts_on"),
        Index("ix_absences_cover_end", "cover_ended_at", "ends_on"),
        # The console's "who is away and who covers", by start (keyset).
        Index("ix_absences_start", "starts_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    # Set by the sweep once the agent's open requests have their covers, and once they are
    # back: each absence is acted on once, at its start and at its end.
    cover_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cover_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Contact(Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(16), default="en")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when a delivery status notification says mail to this address failed; cleared when
    # the contact writes again. The console shows it to whoever owns their requests.
    mail_bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_bounce_reason: Mapped[str | None] = mapped_column(String(500))


class Subject(Model):
    """What a SPOC is accountable for. Its kind comes from a plugin."""

    __tablename__ = "subjects"
    __table_args__ = (
        UniqueConstraint("kind", "external_ref"),
        # The console's subject list of one kind, by id (keyset).
        Index("ix_subjects_kind_id", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    external_ref: Mapped[str | None] = mapped_column(String(100))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    spoc_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    spoc: Mapped[Agent | None] = relationship(foreign_keys=[spoc_agent_id])
    deputies: Mapped[list[SubjectDeputy]] = relationship(
        order_by="SubjectDeputy.position", cascade="all, delete-orphan"
    )


class SubjectDeputy(Model):
    __tablename__ = "subject_deputies"
    __table_args__ = (UniqueConstraint("subject_id", "position"),)

    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)

    agent: Mapped[Agent] = relationship()
