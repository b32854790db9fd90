"""logistics: escalation deadlines move onto the core's watches

``logistics_exceptions.escalation_due`` and ``logistics_claims.deadline_escalated`` go. Each
exception gets its watch ``logistics:<cause>`` and, when it wants the authority
(``level_wanted`` 2), ``logistics:<cause>_authority``: unsettled while it was still due,
settled otherwise. Each claim with a notice deadline gets ``logistics:claim_deadline``,
unsettled until it was escalated; it falls due at once and the plugin re-arms it for
``claim_warning_days`` before the deadline (a setting, which a migration cannot read). The
escalation triggers stay ``plugin:logistics:<cause>``, so nothing escalates twice. What the
old rows did not record — when a watch was armed or settled — is the time of the carry-over
(armed: when the exception was opened, the claim filed).

Revision ID: l004_core_watches
Revises: l003_customer_notice
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from spoc import UTCDateTime

revision: str = "l004_core_watches"
down_revision: str | Sequence[str] | None = "l003_customer_notice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = "logistics:"
AUTHORITY = "_authority"
CLAIM = PREFIX + "claim_deadline"

watches = sa.table(
    "watches",
    sa.column("id", sa.Integer()),
    sa.column("cause", sa.String()),
    sa.column("request_id", sa.Integer()),
    sa.column("due_at", UTCDateTime()),
    sa.column("escalate_to", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("armed_at", UTCDateTime()),
    sa.column("settled_at", UTCDateTime()),
)
exceptions = sa.table(
    "logistics_exceptions",
    sa.column("id", sa.Integer()),
    sa.column("request_id", sa.Integer()),
    sa.column("cause", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("opened_at", UTCDateTime()),
    sa.column("level_wanted", sa.Integer()),
    sa.column("escalation_due", sa.Boolean()),
)
claims = sa.table(
    "logistics_claims",
    sa.column("id", sa.Integer()),
    sa.column("request_id", sa.Integer()),
    sa.column("deadline_at", UTCDateTime()),
    sa.column("deadline_escalated", sa.Boolean()),
    sa.column("created_at", UTCDateTime()),
)
COLUMNS = ["cause", "request_id", "due_at", "escalate_to", "reason", "armed_at", "settled_at"]


def _settled(still_due: sa.ColumnElement[bool], now: datetime) -> sa.ColumnElement[datetime]:
    return sa.case((still_due, sa.null()), else_=sa.literal(now, UTCDateTime()))


def upgrade() -> None:
    now = datetime.now(UTC)
    for suffix, wanted in (("", 1), (AUTHORITY, 2)):
        op.execute(
            sa.insert(watches).from_select(
                COLUMNS,
                sa.select(
                    sa.literal(PREFIX) + exceptions.c.cause + sa.literal(suffix),
                    exceptions.c.request_id,
                    exceptions.c.opened_at,
                    sa.null(),
                    sa.func.substr(exceptions.c.reason, 1, 300),
                    exceptions.c.opened_at,
                    _settled(exceptions.c.escalation_due.is_(True), now),
                )
                .where(exceptions.c.level_wanted >= wanted)
                .order_by(exceptions.c.id),
            )
        )
    op.execute(
        sa.insert(watches).from_select(
            COLUMNS,
            sa.select(
                sa.literal(CLAIM),
                claims.c.request_id,
                claims.c.created_at,
                sa.null(),
                sa.literal("the claim must reach the carrier by its notice deadline"),
                claims.c.created_at,
                _settled(claims.c.deadline_escalated.is_(False), now),
            )
            .where(claims.c.deadline_at.is_not(None))
            .order_by(claims.c.id),
        )
    )
    with op.batch_alter_table("logistics_exceptions") as batch:
        batch.drop_index("ix_logistics_exceptions_escalation_due")
        batch.drop_column("escalation_due")
    with op.batch_alter_table("logistics_claims") as batch:
        batch.drop_index("ix_logistics_claims_deadline")
        batch.drop_column("deadline_escalated")


def _unsettled(*causes: sa.ColumnElement[str], request_id: sa.ColumnElement[int]) -> sa.Exists:
    return sa.exists().where(
        watches.c.request_id == request_id,
        watches.c.cause.in_(causes),
        watches.c.settled_at.is_(None),
    )


def downgrade() -> None:
    with op.batch_alter_table("logistics_exceptions") as batch:
        batch.add_column(
            sa.Column("escalation_due", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.create_index("ix_logistics_exceptions_escalation_due", ["escalation_due", "id"])
    with op.batch_alter_table("logistics_claims") as batch:
        batch.add_column(
            sa.Column("deadline_escalated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_index("ix_logistics_claims_deadline", ["deadline_escalated", "deadline_at"])
    cause = sa.literal(PREFIX) + exceptions.c.cause
    op.execute(
        sa.update(exceptions).values(
            escalation_due=_unsettled(
                cause, cause + sa.literal(AUTHORITY), request_id=exceptions.c.request_id
            )
        )
    )
    op.execute(
        sa.update(claims).values(
            deadline_escalated=~_unsettled(sa.literal(CLAIM), request_id=claims.c.request_id)
        )
    )
    op.execute(sa.delete(watches).where(sa.func.substr(watches.c.cause, 1, len(PREFIX)) == PREFIX))
    # As l001 made them: no server default (the model sets the value).
    with op.batch_alter_table("logistics_exceptions") as batch:
        batch.alter_column("escalation_due", server_default=None)
    with op.batch_alter_table("logistics_claims") as batch:
        batch.alter_column("deadline_escalated", server_default=None)
