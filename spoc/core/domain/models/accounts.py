"""Staff sign-in: sessions, throttles, password resets, second factors, API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from spoc.core.storage.db import JSONType, Model, UTCDateTime


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
