"""API bearer tokens: created and revoked by admins, shown once, stored as SHA-256 digests."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.links import digest
from spoc.core.domain.models import Agent, ApiToken
from spoc.core.domain.writes import ServiceBase
from spoc.core.kernel.errors import NotFoundError, ValidationFailed
from spoc.core.kernel.types import Actor, Role

PREFIX = "spoc_"


class TokenService(ServiceBase):
    def create(self, actor: Actor, agent_email: str, name: str) -> tuple[ApiToken, str]:
        """A new token for the agent; the secret is returned once and never stored."""
        self.require_staff(actor, "create API tokens", (Role.ADMIN,))
        if not name.strip():
            raise ValidationFailed("invalid token", {"name": "say what the token is for"})
        secret = PREFIX + secrets.token_urlsafe(32)
        with self.db.transaction() as session:
            agent = session.scalar(select(Agent).where(Agent.email == agent_email.strip().lower()))
            if agent is None or not agent.active:
                raise ValidationFailed("invalid token", {"agent": f"no active agent {agent_email}"})
            token = ApiToken(
                agent_id=agent.id,
                name=name.strip()[:100],
                token_hash=digest(secret),
                created_at=self.clock.now(),
            )
            session.add(token)
            session.flush()
            record_admin_change(
                session,
                actor,
                AuditAction.TOKEN_CREATED,
                "agent",
                agent.id,
                f"API token {token.name!r} for {agent.email}",
                at=self.clock.now(),
                after={"token_id": token.id, "name": token.name},
            )
        return token, secret

    def revoke(self, actor: Actor, token_id: int) -> None:
        """Revoke an API token (admins only), audited; revoking twice is no error. ``NotFoundError``
        for an unknown token."""
        self.require_staff(actor, "revoke API tokens", (Role.ADMIN,))
        with self.db.transaction() as session:
            token = session.get(ApiToken, token_id)
            if token is None:
                raise NotFoundError(f"no token {token_id}")
            if token.revoked_at is None:
                token.revoked_at = self.clock.now()
                record_admin_change(
                    session,
                    actor,
                    AuditAction.TOKEN_REVOKED,
                    "agent",
                    token.agent_id,
                    f"Revoked API token {token.name!r}",
                    at=self.clock.now(),
                    before={"token_id": token.id, "name": token.name},
                )

    def list(self, limit: int = 100) -> list[tuple[ApiToken, Agent]]:
        """The newest API tokens (at most ``limit``) with their agents; secrets are never stored."""
        with self.db.reader() as session:
            rows = session.execute(
                select(ApiToken, Agent)
                .join(Agent, Agent.id == ApiToken.agent_id)
                .order_by(ApiToken.id.desc())
                .limit(limit)
            )
            return [(token, agent) for token, agent in rows]

    def authenticate(self, secret: str) -> Actor | None:
        """The agent a live token acts as, or None (unknown, revoked, agent inactive)."""
        if not secret.startswith(PREFIX):
            return None
        with self.db.transaction() as session:
            found = session.execute(
                select(ApiToken, Agent)
                .join(Agent, Agent.id == ApiToken.agent_id)
                .where(ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None))
            ).first()
            if found is None or not found[1].active:
                return None
            token, agent = found
            token.last_used_at = self.clock.now()
            return Actor.agent(agent.id, agent.role, agent.name)
