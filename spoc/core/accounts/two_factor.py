"""TOTP two-factor for agents (RFC 6238 through pyotp), with single-use recovery codes.

The secret is sealed at rest with a key of its own (HKDF label :data:`SEAL_LABEL`, from
``SPOC_SECRET_KEY``) and bound to the agent's id, so a copy of the database holds no secret and
one agent's sealed secret does not open as another's. A code is accepted for the current
30-second step or one step either side (clock drift), and never for a step at or before the
last one accepted: a code seen over a shoulder, or used a moment ago, does not work again.

Recovery codes are 80 random bits shown once at enrolment; only their SHA-256 digest is kept
(high entropy, so a fast digest is enough: there is nothing to guess offline) and each works
once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum

import pyotp
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from spoc.core.accounts.auth import AuthService
from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.models import Agent, AgentRecoveryCode, AgentTwoFactor
from spoc.core.domain.writes import ServiceBase, ServiceDeps
from spoc.core.kernel.errors import NotFoundError, PermissionDenied, ValidationFailed
from spoc.core.kernel.passwords import verify_password
from spoc.core.kernel.types import Actor, Role
from spoc.core.storage.keys import Sealer

SEAL_LABEL = "spoc/two-factor/v1"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
_RECOVERY_LENGTH = 16  # 31**16 > 2**79


class SecondStep(Enum):
    """How the code after a right password went."""

    PASSED = "passed"
    WRONG = "wrong"
    PAUSED = "paused"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str


@dataclass(frozen=True)
class TwoFactorStatus:
    enrolled: bool
    enrolling: bool
    recovery_codes_left: int


def _purpose(agent_id: int) -> str:
    return f"agent-totp:{agent_id}"


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _recovery_digest(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode("ascii", "replace")).hexdigest()


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4))


class TwoFactorService(ServiceBase):
    def __init__(self, deps: ServiceDeps, sealer: Sealer, auth: AuthService) -> None:
        super().__init__(deps)
        self._sealer = sealer
        self._auth = auth

    # --- reading ------------------------------------------------------------------------

    def status(self, agent_id: int) -> TwoFactorStatus:
        """The agent's two-factor state: enrolled, enrolling, and recovery codes left."""
        with self.db.reader() as session:
            row = session.get(AgentTwoFactor, agent_id)
            left = self._codes_left(session, agent_id)
        return TwoFactorStatus(
            enrolled=row is not None and row.confirmed_at is not None,
            enrolling=row is not None and row.confirmed_at is None,
            recovery_codes_left=left,
        )

    def is_enrolled(self, agent_id: int) -> bool:
        """Whether the agent has confirmed a two-factor authenticator."""
        return self.status(agent_id).enrolled

    @staticmethod
    def _codes_left(session: Session, agent_id: int) -> int:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AgentRecoveryCode)
                .where(AgentRecoveryCode.agent_id == agent_id, AgentRecoveryCode.used_at.is_(None))
            )
            or 0
        )

    # --- enrolment ----------------------------------------------------------------------

    def start_enrolment(self, actor: Actor) -> Enrolment:
        """A fresh secret for the agent, waiting for a first right code."""
        agent_id = self._own_id(actor)
        secret = pyotp.random_base32()
        with self.db.transaction() as session:
            agent = self._agent(session, agent_id)
            row = session.get(AgentTwoFactor, agent_id)
            if row is not None and row.confirmed_at is not None:
                raise ValidationFailed(
                    "two-factor is already on", {"code": "turn two-factor off first"}
                )
            if row is None:
                row = AgentTwoFactor(agent_id=agent_id, created_at=self.clock.now())
                session.add(row)
            row.secret_sealed = self._sealer.seal(secret, _purpose(agent_id))
            row.created_at, row.last_step = self.clock.now(), None
            return Enrolment(secret, self._uri(secret, agent))

    def pending_enrolment(self, actor: Actor) -> Enrolment | None:
        """The secret being enrolled, to show again; ``None`` when no enrolment waits."""
        agent_id = self._own_id(actor)
        with self.db.reader() as session:
            row = session.get(AgentTwoFactor, agent_id)
            if row is None or row.confirmed_at is not None:
                return None
            secret = self._sealer.open(row.secret_sealed, _purpose(agent_id))
            return Enrolment(secret, self._uri(secret, self._agent(session, agent_id)))

    def confirm_enrolment(self, actor: Actor, code: str) -> list[str]:
        """Turn two-factor on with a right code; returns the recovery codes (shown once)."""
        agent_id = self._own_id(actor)
        now = self.clock.now()
        with self.db.transaction() as session:
            agent = self._agent(session, agent_id)
            row = session.get(AgentTwoFactor, agent_id)
            if row is None or row.confirmed_at is not None:
                raise ValidationFailed("no enrolment waits", {"code": "start the enrolment again"})
            if not self._accept_totp(row, code):
                raise ValidationFailed(
                    "wrong code", {"code": "not the code your authenticator shows now"}
                )
            row.confirmed_at = now
            codes = self._replace_recovery_codes(session, agent_id)
            record_admin_change(
                session,
                actor,
                AuditAction.TWO_FACTOR_ENROLLED,
                "agent",
                agent_id,
                f"Two-factor turned on by {agent.email}",
                at=now,
                before={"two_factor": False},
                after={"two_factor": True, "recovery_codes": len(codes)},
            )
        return codes

    def _replace_recovery_codes(self, session: Session, agent_id: int) -> list[str]:
        session.execute(delete(AgentRecoveryCode).where(AgentRecoveryCode.agent_id == agent_id))
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        session.add_all(
            AgentRecoveryCode(agent_id=agent_id, code_hash=_recovery_digest(code)) for code in codes
        )
        return codes

    # --- checking a code ----------------------------------------------------------------

    def check_sign_in(self, agent_id: int, email: str, client: str, code: str) -> SecondStep:
        """The second step of a sign-in: a current code or an unused recovery code. Wrong
        codes count towards the sign-in pause of ``email`` from ``client``."""
        with self.db.transaction() as session:
            if self._auth.pair_is_paused(session, email, client):
                return SecondStep.PAUSED
            agent = session.get(Agent, agent_id)
            row = session.get(AgentTwoFactor, agent_id)
            if agent is None or not agent.active or row is None or row.confirmed_at is None:
                return SecondStep.WRONG
            if self._accept_any(session, agent, row, code, "sign-in"):
                self._auth.clear_failures(session, email, client)
                return SecondStep.PASSED
            self._auth.count_failed_step(session, email, client)
        return SecondStep.WRONG

    def _accept_any(
        self, session: Session, agent: Agent, row: AgentTwoFactor, code: str, use: str
    ) -> bool:
        if self._accept_totp(row, code):
            return True
        return self._spend_recovery_code(session, agent, code, use)

    def _accept_totp(self, row: AgentTwoFactor, code: str) -> bool:
        typed = _normalise(code)
        if len(typed) != 6 or not typed.isdigit():
            return False
        totp = pyotp.TOTP(self._sealer.open(row.secret_sealed, _purpose(row.agent_id)))
        now_step = int(self.clock.now().timestamp()) // STEP_SECONDS
        for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
            if row.last_step is not None and step <= row.last_step:
                continue  # that step's code was used already (or an earlier one's)
            if hmac.compare_digest(totp.generate_otp(step), typed):
                row.last_step = step
                return True
        return False

    def _spend_recovery_code(self, session: Session, agent: Agent, code: str, use: str) -> bool:
        typed = _normalise(code)
        if len(typed) != _RECOVERY_LENGTH:
            return False
        found = session.scalar(
            select(AgentRecoveryCode).where(
                AgentRecoveryCode.agent_id == agent.id,
                AgentRecoveryCode.code_hash == _recovery_digest(typed),
                AgentRecoveryCode.used_at.is_(None),
            )
        )
        if found is None:
            return False
        now = self.clock.now()
        found.used_at = now
        session.flush()
        left = self._codes_left(session, agent.id)
        record_admin_change(
            session,
            Actor.agent(agent.id, agent.role, agent.name),
            AuditAction.TWO_FACTOR_RECOVERY_USED,
            "agent",
            agent.id,
            f"Recovery code used by {agent.email} for {use}; {left} left",
            at=now,
            before={"recovery_codes": left + 1},
            after={"recovery_codes": left},
        )
        return True

    # --- turning it off -----------------------------------------------------------------

    def disable(self, actor: Actor, password: str, code: str) -> None:
        """The agent's own choice: needs their password and a current (or recovery) code."""
        agent_id = self._own_id(actor)
        with self.db.transaction() as session:
            agent = self._agent(session, agent_id)
            row = session.get(AgentTwoFactor, agent_id)
            if row is None or row.confirmed_at is None:
                raise ValidationFailed("two-factor is off", {"code": "two-factor is not on"})
            errors: dict[str, str] = {}
            if not verify_password(agent.password_hash, password):
                errors["password"] = "not your current password"  # noqa: S105 - a message
            elif not self._accept_any(session, agent, row, code, "turning two-factor off"):
                errors["code"] = "not a current code or an unused recovery code"
            if errors:
                raise ValidationFailed("two-factor stays on", errors)
            self._remove(session, agent_id)
            record_admin_change(
                session,
                actor,
                AuditAction.TWO_FACTOR_DISABLED,
                "agent",
                agent_id,
                f"Two-factor turned off by {agent.email}",
                at=self.clock.now(),
                before={"two_factor": True},
                after={"two_factor": False},
            )

    def reset(self, actor: Actor, agent_id: int) -> bool:
        """An admin clears another agent's two-factor (a lost phone) and signs them out
        everywhere; they enrol again. Returns whether two-factor was on."""
        self.require_staff(actor, "reset two-factor", (Role.ADMIN,))
        if actor.id == agent_id:
            raise PermissionDenied("reset your own two-factor from your account page")
        with self.db.transaction() as session:
            agent = self._agent(session, agent_id)
            row = session.get(AgentTwoFactor, agent_id)
            was_on = row is not None and row.confirmed_at is not None
            self._remove(session, agent_id)
            self._auth.end_all_sessions(session, agent_id)
            record_admin_change(
                session,
                actor,
                AuditAction.TWO_FACTOR_RESET,
                "agent",
                agent_id,
                f"Two-factor of {agent.email} reset; every session signed out",
                at=self.clock.now(),
                before={"two_factor": was_on},
                after={"two_factor": False},
            )
        return was_on

    @staticmethod
    def _remove(session: Session, agent_id: int) -> None:
        session.execute(delete(AgentRecoveryCode).where(AgentRecoveryCode.agent_id == agent_id))
        session.execute(delete(AgentTwoFactor).where(AgentTwoFactor.agent_id == agent_id))

    # --- helpers ------------------------------------------------------------------------

    def _uri(self, secret: str, agent: Agent) -> str:
        return pyotp.TOTP(secret).provisioning_uri(
            name=agent.email, issuer_name=self.settings.org_name
        )

    @staticmethod
    def _own_id(actor: Actor) -> int:
        if actor.id is None or actor.role is None:
            raise PermissionDenied("only a signed-in agent has two-factor")
        return actor.id

    @staticmethod
    def _agent(session: Session, agent_id: int) -> Agent:
        agent = session.get(Agent, agent_id)
        if agent is None or not agent.active:
            raise NotFoundError(f"no agent {agent_id}")
        return agent
