"""Staff sign-in: argon2 passwords, lockout after repeated failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from spoc.core.models import Agent
from spoc.core.passwords import hash_password, needs_rehash, verify_password
from spoc.core.writes import ServiceBase

# Verifying against a real hash even for unknown emails keeps response times alike, so the
# login form does not reveal which addresses have accounts.
_DUMMY_HASH = hash_password("not-a-real-password-0000")


@dataclass(frozen=True)
class LoginResult:
    agent: Agent | None
    message: str = ""


class AuthService(ServiceBase):
    def login(self, email: str, password: str) -> LoginResult:
        now = self.clock.now()
        refused = LoginResult(None, "Email or password is not right.")
        with self.db.transaction() as session:
            agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
            if agent is None or not agent.active:
                verify_password(_DUMMY_HASH, password)
                return refused
            if agent.locked_until is not None and agent.locked_until > now:
                minutes = max(1, int((agent.locked_until - now).total_seconds() // 60) + 1)
                message = f"Too many failed attempts: locked for {minutes} more minute(s)."
                return LoginResult(None, message)
            if not verify_password(agent.password_hash, password):
                agent.failed_logins += 1
                if agent.failed_logins >= self.settings.login_lockout_after:
                    agent.failed_logins = 0
                    agent.locked_until = now + timedelta(
                        minutes=self.settings.login_lockout_minutes
                    )
                    return LoginResult(
                        None,
                        "Too many failed attempts: this account is locked for "
                        f"{self.settings.login_lockout_minutes} minutes.",
                    )
                return refused
            agent.failed_logins = 0
            agent.locked_until = None
            agent.last_login_at = now
            if agent.password_hash and needs_rehash(agent.password_hash):
                agent.password_hash = hash_password(password)
            return LoginResult(agent)
