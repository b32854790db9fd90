"""Core tables. Plugins keep their own tables (``<plugin>_...``) and never alter these."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
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
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spoc.core.kernel.types import ActorKind, Priority, Role, Status
from spoc.core.storage.db import JSONType, Model, SealedText, UTCDateTime


def _enum(kind: type[enum.Enum], name: str) -> SAEnum:
    # Stored as short strings with a CHECK constraint: portable, readable in SQL, and
    # extendable by a migration without native enum ALTER TYPE dances on PostgreSQL.
    return SAEnum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


# Sorts after every real deadline, so queues can order by deadline_at with a plain index.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class Team(Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

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
    role: Mapped[Role] = mapped_column(_enum(Role, "agent_role"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    teams: Mapped[list[Team]] = relationship(
        secondary="team_members", back_populates="members", order_by="Team.name"
    )


class AgentSession(Model):
    """One signed-in console session. The cookie holds a random token; only its digest is
    kept here, and a request is served only while its row exists and is neither idle nor too
    old. Signing out deletes the row; a password change deletes all of the agent's."""

    __tablename__ = "agent_sessions"
    __table_args__ = (
        # "Sign this agent out everywhere" (password change, reset, deactivation).
        Index("ix_agent_sessions_agent", "agent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginThrottle(Model):
    """Failed sign-ins for one email address from one client address. Keyed by the digest
    of the email as typed (known or not), so a pause looks the same for every address, and
    by client, so an attacker elsewhere cannot lock the real user out."""

    __tablename__ = "login_throttles"
    __table_args__ = (
        UniqueConstraint("email_digest", "client"),
        # An admin's unlock clears every client's count for one address.
        Index("ix_login_throttles_email", "email_digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email_digest: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PasswordReset(Model):
    """A mailed "set a new password" link: only the token's digest, single use, expiring."""

    __tablename__ = "password_resets"
    __table_args__ = (Index("ix_password_resets_agent", "agent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentTwoFactor(Model):
    """An agent's TOTP second factor. The secret is sealed with a key derived from
    ``SPOC_SECRET_KEY`` (never in clear here); ``confirmed_at`` is unset while enrolment waits
    for a first right code. ``last_step`` is the last 30-second step a code was accepted for:
    a code of that step or an earlier one is refused (no replay)."""

    __tablename__ = "agent_two_factor"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    secret_sealed: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column(Integer)


class AgentRecoveryCode(Model):
    """A single-use recovery code for an agent who lost their authenticator: only the
    SHA-256 digest of an 80-bit random code is kept; ``used_at`` marks it spent."""

    __tablename__ = "agent_recovery_codes"
    __table_args__ = (
        # The agent's codes: checking one, counting those left, replacing all.
        Index("ix_agent_recovery_codes_agent", "agent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Absence(Model):
    """An agent is away from ``starts_on`` to ``ends_on`` inclusive (organisation dates)."""

    __tablename__ = "absences"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        Index("ix_absences_agent_period", "agent_id", "ends_on", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")


class Contact(Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(16), default="en")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subject(Model):
    """What a SPOC is accountable for. Its kind comes from a plugin."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("kind", "external_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
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


class Request(Model):
    """Current state of a request: a projection of its timeline, kept in the same transaction."""

    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint("escalation_level >= 0 AND escalation_level <= 2", name="level_range"),
        Index("ix_requests_owner_status", "owner_agent_id", "status"),
        Index("ix_requests_team_status", "owner_team_id", "status"),
        Index("ix_requests_status_created", "status", "created_at"),
        Index("ix_requests_subject", "subject_id", "created_at"),
        Index("ix_requests_contact", "contact_id", "created_at"),
        # Console queues walk these in (deadline_at, id) order, page by page.
        Index("ix_requests_deadline_owner", "owner_agent_id", "deadline_at", "id"),
        Index("ix_requests_deadline_team", "owner_team_id", "deadline_at", "id"),
        Index("ix_requests_deadline_all", "deadline_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_key: Mapped[str] = mapped_column(String(100), index=True)
    summary: Mapped[str] = mapped_column(String(200))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "priority"))
    status: Mapped[Status] = mapped_column(_enum(Status, "status"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    owner_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    owner_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    close_reason: Mapped[str | None] = mapped_column(String(500))
    # When the sweep must next look at this request (earliest pending warning or deadline of
    # its clocks); NULL when nothing is pending. Kept in step by spoc.core.domain.sla.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The earliest pending deadline, for sorting queues; NO_DEADLINE when there is none.
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: NO_DEADLINE)

    contact: Mapped[Contact] = relationship()
    subject: Mapped[Subject | None] = relationship()
    owner_agent: Mapped[Agent | None] = relationship(foreign_keys=[owner_agent_id])
    owner_team: Mapped[Team | None] = relationship(foreign_keys=[owner_team_id])

    # Optimistic locking: every UPDATE says "WHERE version = <what I read>".
    __mapper_args__ = {"version_id_col": version}


class Message(Model):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility, "visibility"))
    author_kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind, "author_kind"))
    author_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    author_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TimelineEvent(Model):
    """Append-only: rows are inserted, never updated or deleted by the application."""

    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("request_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility, "visibility"))
    actor_kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind, "actor_kind"))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    message: Mapped[Message | None] = relationship()
    request: Mapped[Request] = relationship()


class Escalation(Model):
    """Escalation is a record with its own life, not a priority bump."""

    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_request", "request_id", "opened_at"),
        Index("ix_escalations_team_open", "to_team_id", "handed_back_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    from_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    to_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    to_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    reason: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_back_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))

    to_team: Mapped[Team | None] = relationship(foreign_keys=[to_team_id])


class Feedback(Model):
    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- Portal links ---------------------------------------------------------------------------
# Secrets in links are random and stored only as SHA-256 digests: a leaked database does not
# leak working links.


class TrackingToken(Model):
    """The requester's private link to one request: no account, just a secret that expires."""

    __tablename__ = "tracking_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SubjectIntakeLink(Model):
    """``/s/<token>``: an organisation shares it so requests land on one subject."""

    __tablename__ = "subject_intake_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MagicLink(Model):
    """ "Email me a link to all my requests": a short-lived, single-use sign-in for a contact.

    Issued by the outbox worker, never by the web request that asked for it, so asking costs
    the same whether or not the address is known (``spoc.core.domain.links.MAGIC_LINK_CHANNEL``)."""

    __tablename__ = "magic_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Single use: set by the first sign-in; a second use is refused and says so.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- SLA clocks -----------------------------------------------------------------------------


class SlaClock(Model):
    """One clock of a request: first response, resolution, an escalation's OLA, housekeeping."""

    __tablename__ = "sla_clocks"
    __table_args__ = (Index("ix_sla_clocks_request", "request_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE")
    )
    calendar: Mapped[str] = mapped_column(String(64))
    target_seconds: Mapped[int] = mapped_column(Integer)
    warn_seconds: Mapped[int | None] = mapped_column(Integer)
    # Business time spent paused so far: due = calendar.add(started, target + paused).
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))  # running, paused, met, stopped
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[Request] = relationship()


class SlaClockEvent(Model):
    """Append-only log of what happened to a clock, so it can explain itself."""

    __tablename__ = "sla_clock_events"
    __table_args__ = (
        Index("ix_sla_clock_events_clock", "clock_id", "id"),
        # A clock warns once and breaches once, however many sweeps run at the same time.
        Index(
            "uq_sla_clock_events_once",
            "clock_id",
            "kind",
            unique=True,
            postgresql_where=text("kind IN ('warned', 'breached')"),
            sqlite_where=text("kind IN ('warned', 'breached')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clocks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    clock: Mapped[SlaClock] = relationship()


class EscalationTrigger(Model):
    """An automatic trigger that has fired for a request: each fires at most once."""

    __tablename__ = "escalation_triggers"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True
    )
    trigger: Mapped[str] = mapped_column(String(100), primary_key=True)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- Notification outbox --------------------------------------------------------------------


class OutboxMessage(Model):
    """A notification written in the same transaction as its cause, delivered later.

    Delivery is at least once; ``idempotency_key`` travels with the message (Message-ID,
    Idempotency-Key header) so a receiver drops the duplicate a crash between sending and
    marking sent can cause. ``claimed_until`` is the lease of the worker sending it: a row
    left in ``sending`` by a dead worker becomes claimable again when the lease runs out.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # Claiming: the next due row of a status, oldest first (see Deliverer.claim_one).
        Index("ix_outbox_due", "status", "next_attempt_at", "id"),
        Index("ix_outbox_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("requests.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300), default="")
    # Sealed at rest: mails carry working tracking and sign-in links (see SealedText).
    body_text: Mapped[str] = mapped_column(SealedText("outbox_messages.body_text"))
    body_html: Mapped[str | None] = mapped_column(SealedText("outbox_messages.body_html"))
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[Request | None] = relationship()


# --- JSON API -------------------------------------------------------------------------------


class ApiToken(Model):
    """A bearer token that acts as its agent, with the agent's role. Only a digest is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRecord(Model):
    """The first answer to a request carrying an Idempotency-Key, replayed to retries."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- administration -------------------------------------------------------------------------


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
    actor_kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind, "admin_audit_actor_kind"))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(500))
    before: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
