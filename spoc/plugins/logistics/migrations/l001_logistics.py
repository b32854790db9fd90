"""logistics: orders, shipments, tracking events, exceptions, claims, address audit

Revision ID: l001_logistics
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "l001_logistics"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("logistics",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "logistics_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=60), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("customer_email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["subjects.id"],
            name="fk_logistics_orders_account_id_subjects",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_logistics_orders"),
        sa.UniqueConstraint("order_number", name="uq_logistics_orders_order_number"),
    )
    op.create_index("ix_logistics_orders_account_id", "logistics_orders", ["account_id"])
    op.create_table(
        "logistics_shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=40), nullable=False),
        sa.Column("tracking_number", sa.String(length=60), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("domestic", sa.Boolean(), nullable=False),
        sa.Column("promised_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promised_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("origin_city", sa.String(length=100), nullable=False),
        sa.Column("origin_country", sa.String(length=2), nullable=False),
        sa.Column("destination_city", sa.String(length=100), nullable=False),
        sa.Column("destination_country", sa.String(length=2), nullable=False),
        sa.Column("destination_address", sa.Text(), nullable=False),
        sa.Column("consignee_name", sa.String(length=200), nullable=False),
        sa.Column("proof_of_delivery", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("eta", sa.DateTime(timezone=True), nullable=True),
        sa.Column("eta_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("damage_reported", sa.Boolean(), nullable=False),
        sa.Column("loss_reported", sa.Boolean(), nullable=False),
        sa.Column("customs_hold", sa.Boolean(), nullable=False),
        sa.Column("stale_watch", sa.Boolean(), nullable=False),
        sa.Column("exception_due", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["logistics_orders.id"],
            name="fk_logistics_shipments_order_id_logistics_orders",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_logistics_shipments"),
        sa.UniqueConstraint(
            "tracking_number", "carrier", name="uq_logistics_shipments_tracking_number_carrier"
        ),
    )
    op.create_index(
        "ix_logistics_shipments_exception_due", "logistics_shipments", ["exception_due", "id"]
    )
    op.create_index("ix_logistics_shipments_order_id", "logistics_shipments", ["order_id"])
    op.create_index(
        "ix_logistics_shipments_stale",
        "logistics_shipments",
        ["stale_watch", "domestic", "last_scan_at"],
    )
    op.create_table(
        "logistics_tracking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("raw_code", sa.String(length=40), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("code_system", sa.String(length=40), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("eta", sa.DateTime(timezone=True), nullable=True),
        sa.Column("damage", sa.Boolean(), nullable=False),
        sa.Column("loss", sa.Boolean(), nullable=False),
        sa.Column("customs", sa.Boolean(), nullable=False),
        sa.Column("signed_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipments.id"],
            name="fk_logistics_tracking_events_shipment_id_logistics_shipments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_logistics_tracking_events"),
        sa.UniqueConstraint("event_id", name="uq_logistics_tracking_events_event_id"),
    )
    op.create_index(
        "ix_logistics_tracking_events_history",
        "logistics_tracking_events",
        ["shipment_id", "occurred_at"],
    )
    op.create_table(
        "logistics_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level_wanted", sa.Integer(), nullable=False),
        sa.Column("escalation_due", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name="fk_logistics_exceptions_request_id_requests",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipments.id"],
            name="fk_logistics_exceptions_shipment_id_logistics_shipments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_logistics_exceptions"),
        sa.UniqueConstraint("request_id", name="uq_logistics_exceptions_request_id"),
        sa.UniqueConstraint(
            "shipment_id", "cause", name="uq_logistics_exceptions_shipment_id_cause"
        ),
    )
    op.create_index(
        "ix_logistics_exceptions_escalation_due", "logistics_exceptions", ["escalation_due", "id"]
    )
    op.create_table(
        "logistics_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_escalated", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name="fk_logistics_claims_request_id_requests",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipments.id"],
            name="fk_logistics_claims_shipment_id_logistics_shipments",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_logistics_claims"),
        sa.UniqueConstraint("request_id", name="uq_logistics_claims_request_id"),
    )
    op.create_index(
        "ix_logistics_claims_deadline", "logistics_claims", ["deadline_escalated", "deadline_at"]
    )
    op.create_index("ix_logistics_claims_shipment_id", "logistics_claims", ["shipment_id"])
    op.create_table(
        "logistics_verified_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=False),
        sa.Column("verified_by", sa.String(length=200), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["subjects.id"],
            name="fk_logistics_verified_contacts_account_id_subjects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_logistics_verified_contacts"),
        sa.UniqueConstraint(
            "account_id", "email", name="uq_logistics_verified_contacts_account_id_email"
        ),
    )
    op.create_table(
        "logistics_address_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=254), nullable=False),
        sa.Column("old_address", sa.Text(), nullable=False),
        sa.Column("new_address", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name="fk_logistics_address_changes_request_id_requests",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipments.id"],
            name="fk_logistics_address_changes_shipment_id_logistics_shipments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_logistics_address_changes"),
    )
    op.create_index(
        "ix_logistics_address_changes_request_id", "logistics_address_changes", ["request_id"]
    )
    op.create_index(
        "ix_logistics_address_changes_shipment", "logistics_address_changes", ["shipment_id", "at"]
    )


def downgrade() -> None:
    op.drop_table("logistics_address_changes")
    op.drop_table("logistics_verified_contacts")
    op.drop_table("logistics_claims")
    op.drop_table("logistics_exceptions")
    op.drop_table("logistics_tracking_events")
    op.drop_table("logistics_shipments")
    op.drop_table("logistics_orders")
