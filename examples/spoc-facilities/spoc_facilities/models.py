"""The plugin's own table. Plugins never alter core tables; they reference them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from spoc import Model, UTCDateTime


class WorkOrder(Model):
    __tablename__ = "facilities_work_orders"
    __table_args__ = (Index("ix_facilities_work_orders_open", "closed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    reference: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def open_work_orders(session: Session, limit: int) -> list[WorkOrder]:
    query = select(WorkOrder).where(WorkOrder.closed_at.is_(None)).order_by(WorkOrder.id.desc())
    return list(session.scalars(query.limit(limit)))


def work_order_for(session: Session, request_id: int) -> WorkOrder | None:
    return session.scalar(select(WorkOrder).where(WorkOrder.request_id == request_id))
