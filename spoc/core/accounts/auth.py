"""Staff sign-in: argon2 passwords, per-client throttling, server-side console sessions,
password changes and mailed resets.

A console session is a row (:class:`AgentSession`) whose token digest the cookie's token must
match on every request; it ends when signed out, when idle for ``session_idle_minutes``, at
``session_max_hours`` after sign-in, and for every device when the password changes.

Failed sign-ins are counted per email address *and* client address (:class:`LoginThrottle`):
after ``login_lockout_after`` failures that pair pauses for ``login_lockout_minutes``. Known and
unknown addresses behave alike and every refusal reads the same, so the form tells nobody
which accounts exist; and an attacker elsewhere never locks the real user out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.links import digest, new_token
from spoc.core.domain.models import (
    Agent,
    AgentSession,
    AgentTwoFactor,
    LoginThrottle,
    PasswordReset,
)
from spoc.core.domain.writes import ServiceBase
from spoc.core.kernel.errors import NotFoundError, ValidationFailed
from spoc.core.kernel.passwords import hash_password, needs_rehash, verify_password
from spoc.core.kernel.types import Actor, Role


@cache
def _dummy_hash() -> str:
    """Verifying against a real hash even for unknown emails keeps response times alike, so the
    login form does not reveal which addresses have accounts. Computed at the first sign-in,
    not at import: hashing costs a tenth of a second every command would pay."""
    return hash_password("not-a-real-password-0000")


REFUSED = (
    "Email or password is not right. After several failed attempts, sign-in from this "
    "device pauses for a while: try again later or reset your password."
)

# Writing "last seen" on every click would turn every read into a write; a minute's slack
# in the idle timeout is worth that.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class LoginResult:
    agent: Agent | None
    message: str = ""


def _has_second_factor(session: Session, agent_id: int) -> bool:
    row = session.get(AgentTwoFactor, agent_id)
    return row is not None and row.confirmed_at is not None


def email_digest(email: str) -> str:
    return digest(email.strip().lower())


class AuthService(ServiceBase):
    # --- sign-in ------------------------------------------------------------------------

    def login(self, email: str, password: str, client: str = "unknown") -> LoginResult:
        """Check a password; ``client`` is the caller's address (throttles are per client)."""
        try:
            return self._login(email, password, client)
        except IntegrityError:
            # Two first failures of one pair at once: one counted, the other simply refused.
            return LoginResult(None, REFUSED)

    def _login(self, email: str, password: str, client: str) -> LoginResult:
        now = self.clock.now()
        refused = LoginResult(None, REFUSED)
        key, client = email_digest(email), client[:64]
        with self.db.transaction() as session:
            throttle = session.scalar(
                select(LoginThrottle).where(
                    LoginThrottle.email_digest == key, LoginThrottle.client == client
                )
            )
            if throttle is not None and throttle.locked_until and throttle.locked_until > now:
                verify_password(_dummy_hash(), password)  # a paused pair answers as slowly
                return refused
            agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
            if agent is None or not agent.active:
                verify_password(_dummy_hash(), password)
                ok = False
            else:
                ok = verify_password(agent.password_hash, password)
            if not ok:
                self._count_failure(session, throttle, key, client, now)
                return refused
            assert agent is not None
            # With a second factor the sign-in is not over yet: wrong codes keep counting
            # until a right one (a right password alone must not reset the count).
            if throttle is not None and not _has_second_factor(session, agent.id):
                session.delete(throttle)
            agent.last_login_at = now
            if agent.password_hash and needs_rehash(agent.password_hash):
                agent.password_hash = hash_password(password)
            return LoginResult(agent)

    def _count_failure(
        self,
        session: Session,
        throttle: LoginThrottle | None,
        key: str,
        client: str,
        now: datetime,
    ) -> None:
        if throttle is None:
            throttle = LoginThrottle(email_digest=key, client=client, failures=0, updated_at=now)
            session.add(throttle)
        elif throttle.locked_until is not None:
            throttle.failures, throttle.locked_until = 0, None  # the pause is over: count anew
        throttle.failures += 1
        throttle.updated_at = now
        if throttle.failures >= self.settings.login_lockout_after:
            throttle.locked_until = now + timedelta(minutes=self.settings.login_lockout_minutes)

    # --- the second step of a sign-in (spoc.core.accounts.two_factor) ---------------------------

    def pair_is_paused(self, session: Session, email: str, client: str) -> bool:
        """Whether sign-in for ``email`` from ``client`` is paused right now."""
        throttle = self._throttle(session, email_digest(email), client[:64])
        now = self.clock.now()
        return (
            throttle is not None
            and throttle.locked_until is not None
            and (throttle.locked_until > now)
        )

    def count_failed_step(self, session: Session, email: str, client: str) -> None:
        """A wrong second factor counts like a wrong password towards the pause."""
        key, client = email_digest(email), client[:64]
        self._count_failure(
            session, self._throttle(session, key, client), key, client, (self.clock.now())
        )

    def clear_failures(self, session: Session, email: str, client: str) -> None:
        session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.email_digest == email_digest(email),
                LoginThrottle.client == client[:64],
            )
        )

    @staticmethod
    def _throttle(session: Session, key: str, client: str) -> LoginThrottle | None:
        return session.scalar(
            select(LoginThrottle).where(
                LoginThrottle.email_digest == key, LoginThrottle.client == client
            )
        )

    @staticmethod
    def end_all_sessions(session: Session, agent_id: int) -> None:
        """Sign the agent out on every device, in the caller's transaction."""
        session.execute(delete(AgentSession).where(AgentSession.agent_id == agent_id))

    # --- single sign-on (spoc.core.accounts.oidc) -----------------------------------------------

    def agent_for_sso(self, email: str, name: str) -> LoginResult:
        """The active agent with the provider-verified ``email``. An unknown address gets an
        account only when ``SPOC_OIDC_CREATE_AGENTS_AS`` names a role (audited); a
        deactivated agent never signs in this way."""
        settings = self.settings
        email = email.strip().lower()
        domain = email.rpartition("@")[2]
        if settings.oidc_allowed_domains and domain not in settings.oidc_allowed_domains:
            return LoginResult(None, f"Addresses at {domain} may not sign in to this console.")
        now = self.clock.now()
        with self.db.transaction() as session:
            agent = session.scalar(select(Agent).where(Agent.email == email))
            if agent is None and settings.oidc_create_agents_as:
                role = Role(settings.oidc_create_agents_as)
                agent = Agent(
                    email=email, name=name.strip() or email, role=role, active=True, created_at=now
                )
                session.add(agent)
                session.flush()
                record_admin_change(
                    session,
                    Actor.system("single sign-on"),
                    AuditAction.SSO_AGENT_CREATED,
                    "agent",
                    agent.id,
                    f"Added {email} as {role.value} at their first single sign-on",
                    at=now,
                    after={"email": email, "role": role.value, "active": True},
                )
            if agent is None or not agent.active:
                return LoginResult(
                    None,
                    "No active console account has the address you signed in with. "
                    "Ask an admin to add you.",
                )
            agent.last_login_at = now
            return LoginResult(agent)

    def is_paused(self, email: str) -> bool:
        """Whether sign-in for ``email`` is paused from any client (the admin's agent page)."""
        with self.db.reader() as session:
            found = session.scalar(
                select(LoginThrottle.id)
                .where(
                    LoginThrottle.email_digest == email_digest(email),
                    LoginThrottle.locked_until > self.clock.now(),
                )
                .limit(1)
            )
        return found is not None

    def unlock(self, actor: Actor, agent_id: int) -> int:
        """Clear every failed-attempt count and pause of the agent's address; audited.
        Returns how many clients were paused."""
        self.require_staff(actor, "unlock accounts", (Role.ADMIN,))
        now = self.clock.now()
        with self.db.transaction() as session:
            agent = session.get(Agent, agent_id)
            if agent is None:
                raise NotFoundError(f"no agent {agent_id}")
            rows = list(
                session.scalars(
                    select(LoginThrottle).where(
                        LoginThrottle.email_digest == email_digest(agent.email)
                    )
                )
            )
            paused = sum(1 for r in rows if r.locked_until and r.locked_until > now)
            for row in rows:
                session.delete(row)
            record_admin_change(
                session,
                actor,
                AuditAction.AGENT_UNLOCKED,
                "agent",
                agent.id,
                f"Unlocked sign-in for {agent.email}",
                at=now,
                before={"paused_clients": paused},
                after={"paused_clients": 0},
            )
        return paused

    # --- console sessions ---------------------------------------------------------------

    def open_session(self, agent_id: int) -> str:
        """A new console session; returns the token for the cookie (only its digest is kept)."""
        now = self.clock.now()
        token = new_token()
        with self.db.transaction() as session:
            # Sessions that ran out are of no use to anyone: keep the table small.
            session.execute(delete(AgentSession).where(AgentSession.created_at < self._oldest(now)))
            session.add(
                AgentSession(
                    token_hash=digest(token), agent_id=agent_id, created_at=now, last_seen_at=now
                )
            )
        return token

    def _oldest(self, now: datetime) -> datetime:
        return now - timedelta(hours=self.settings.session_max_hours)

    def agent_for_session(self, token: str) -> Agent | None:
        """The active agent of a live session, or ``None`` (unknown, signed out, idle, too old,
        or deactivated). Keeps the session alive while it is used."""
        now = self.clock.now()
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        with self.db.transaction() as session:
            row = session.scalar(
                select(AgentSession).where(AgentSession.token_hash == digest(token))
            )
            if row is None:
                return None
            agent = session.get(Agent, row.agent_id)
            if (
                agent is None
                or not agent.active
                or row.created_at <= self._oldest(now)
                or row.last_seen_at + idle <= now
            ):
                session.delete(row)
                return None
            if now - row.last_seen_at >= _TOUCH_EVERY:
                row.last_seen_at = now
            return agent

    def close_session(self, token: str) -> None:
        """Sign out the console session with this token (no error when there is none)."""
        with self.db.transaction() as session:
            session.execute(delete(AgentSession).where(AgentSession.token_hash == digest(token)))

    @staticmethod
    def _end_all_sessions(session: Session, agent_id: int) -> None:
        session.execute(delete(AgentSession).where(AgentSession.agent_id == agent_id))

    # --- passwords ----------------------------------------------------------------------

    def _set_password(
        self, session: Session, actor: Actor, agent: Agent, password: str, how: str
    ) -> None:
        try:
            agent.password_hash = hash_password(password)
        except ValueError as exc:
            raise ValidationFailed("invalid password", {"new_password": str(exc)}) from None
        self._end_all_sessions(session, agent.id)
        session.execute(
            delete(PasswordReset).where(
                PasswordReset.agent_id == agent.id, PasswordReset.used_at.is_(None)
            )
        )
        record_admin_change(
            session,
            actor,
            AuditAction.PASSWORD_CHANGED,
            "agent",
            agent.id,
            f"Password of {agent.email} {how}; every session signed out",
            at=self.clock.now(),
            after={"how": how},
        )

    def change_password(self, actor: Actor, current: str, new: str) -> None:
        """The agent's own change: needs the current password; ends all their sessions."""
        if actor.id is None:
            raise NotFoundError("no such agent")
        with self.db.transaction() as session:
            agent = session.get(Agent, actor.id)
            if agent is None or not agent.active:
                raise NotFoundError("no such agent")
            if not verify_password(agent.password_hash, current):
                raise ValidationFailed(
                    "invalid password", {"current_password": "not your current password"}
                )
            self._set_password(session, actor, agent, new, "changed by its owner")

    def request_reset(self, email: str, send: Callable[[Session, Agent, str], None]) -> None:
        """Mail a single-use reset link to an active agent with ``email``; nothing otherwise.
        ``send(session, agent, token)`` queues the mail in the same transaction."""
        now = self.clock.now()
        token = new_token()
        with self.db.transaction() as session:
            session.execute(delete(PasswordReset).where(PasswordReset.expires_at < now))
            agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
            if agent is None or not agent.active:
                return
            session.add(
                PasswordReset(
                    agent_id=agent.id,
                    token_hash=digest(token),
                    created_at=now,
                    expires_at=now + timedelta(minutes=self.settings.password_reset_minutes),
                )
            )
            send(session, agent, token)

    def reset_is_valid(self, token: str) -> bool:
        """Whether a password-reset token is live (issued, unused, not expired)."""
        with self.db.reader() as session:
            return self._live_reset(session, token) is not None

    def _live_reset(self, session: Session, token: str) -> PasswordReset | None:
        return session.scalar(
            select(PasswordReset).where(
                PasswordReset.token_hash == digest(token),
                PasswordReset.used_at.is_(None),
                PasswordReset.expires_at > self.clock.now(),
            )
        )

    def reset_password(self, token: str, new: str) -> bool:
        """Use a reset link once: sets the password, ends every session, clears the pauses.
        ``False`` when the link is unknown, used or expired."""
        try:
            with self.db.transaction() as session:
                reset = self._live_reset(session, token)
                if reset is None:
                    return False
                agent = session.get(Agent, reset.agent_id)
                if agent is None or not agent.active:
                    return False
                reset.used_at = self.clock.now()
                session.flush()
                self._set_password(
                    session,
                    Actor.agent(agent.id, agent.role, agent.name),
                    agent,
                    new,
                    "reset by mailed link",
                )
                session.execute(
                    delete(LoginThrottle).where(
                        LoginThrottle.email_digest == email_digest(agent.email)
                    )
                )
        except IntegrityError:
            return False
        return True
