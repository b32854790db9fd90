"""What a shipping customer can ask: the request types and their forms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from spoc import BusinessHours, Priority, RequestType, SlaPolicy, Status

ACCOUNT = "logistics.account"
WHERE_IS_MY_ORDER = "logistics.where_is_my_order"
DELIVERY_EXCEPTION = "logistics.delivery_exception"
CLAIM = "logistics.claim"
INVENTORY = "logistics.inventory"
ADDRESS_CHANGE = "logistics.address_change"
RETURN = "logistics.return"

TEXTAREA: JsonDict = {"widget": "textarea"}


class _Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class WhereIsMyOrder(_Form):
    order_number: str = Field(min_length=1, max_length=60, description="Your order number")
    tracking_number: str = Field(
        default="", max_length=60, description="The tracking number, if you have one"
    )
    details: str = Field(default="", max_length=2000, json_schema_extra=TEXTAREA)


class ExceptionKind(StrEnum):
    DELAY = "delay"
    DAMAGE = "damage"
    LOSS = "loss"
    REFUSED = "refused"
    ADDRESS_PROBLEM = "address_problem"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    CUSTOMS_HOLD = "customs_hold"


URGENT_EXCEPTIONS = frozenset(
    {ExceptionKind.DAMAGE, ExceptionKind.LOSS, ExceptionKind.CUSTOMS_HOLD}
)


class DeliveryException(_Form):
    summary: str = Field(min_length=3, max_length=200, description="What went wrong, in a line")
    kind: ExceptionKind = Field(description="What kind of problem")
    tracking_number: str = Field(min_length=1, max_length=60)
    carrier_reason_code: str = Field(
        default="", max_length=40, description="The carrier's reason code, if shown"
    )
    details: str = Field(default="", max_length=5000, json_schema_extra=TEXTAREA)
    photos: str = Field(
        default="", max_length=2000, description="Links to photos of the goods or packaging"
    )


def exception_priority(fields: BaseModel) -> Priority | None:
    # Damage, loss and customs holds are acted on at once (DOMAINS.md).
    assert isinstance(fields, DeliveryException)
    return Priority.P2 if fields.kind in URGENT_EXCEPTIONS else None


class ClaimKind(StrEnum):
    VISIBLE_DAMAGE = "visible_damage"
    HIDDEN_DAMAGE = "hidden_damage"
    LOSS = "loss"
    DELAY = "delay"


class ClaimForm(_Form):
    tracking_number: str = Field(min_length=1, max_length=60)
    kind: ClaimKind = Field(
        description="Visible damage, damage found after unpacking (hidden), loss, or delay"
    )
    goods_value: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    description: str = Field(min_length=3, max_length=5000, json_schema_extra=TEXTAREA)
    delivered_on: date | None = Field(
        default=None, description="When it was delivered, if our tracking does not show it"
    )


class InventoryQuestion(_Form):
    sku: str = Field(min_length=1, max_length=40, description="SKU or GTIN")
    location: str = Field(default="", max_length=100, description="Warehouse or location")
    quantity: int = Field(ge=1, le=10_000_000, description="Quantity you need")
    available_to_promise: int | None = Field(
        default=None, ge=0, description="Available to promise, if your portal shows it"
    )
    details: str = Field(default="", max_length=2000, json_schema_extra=TEXTAREA)


def short_of_stock(fields: BaseModel) -> bool:
    return (
        isinstance(fields, InventoryQuestion)
        and fields.available_to_promise is not None
        and fields.available_to_promise < fields.quantity
    )


class AddressChangeForm(_Form):
    tracking_number: str = Field(min_length=1, max_length=60)
    new_address: str = Field(min_length=5, max_length=1000, json_schema_extra=TEXTAREA)
    reason: str = Field(default="", max_length=500)


class ReturnForm(_Form):
    order_number: str = Field(min_length=1, max_length=60)
    items: str = Field(min_length=1, max_length=2000, description="Which items, how many")
    reason: str = Field(min_length=3, max_length=2000, json_schema_extra=TEXTAREA)


def request_types(carrier_desk: str, claims_team: str) -> list[RequestType]:
    group = "Orders and deliveries"
    kinds = (ACCOUNT,)
    return [
        RequestType(
            key=WHERE_IS_MY_ORDER,
            title="Where is my order?",
            description="See where your shipment is and when it arrives.",
            fields_model=WhereIsMyOrder,
            group=group,
            subject_kinds=kinds,
            default_priority=Priority.P4,
            status_labels={Status.RESOLVED: "Answered from tracking — tell us if it does not help"},
            order=10,
        ),
        RequestType(
            key=DELIVERY_EXCEPTION,
            title="Report a delivery problem",
            description="Late, damaged, lost, refused, held at customs, or not delivered.",
            fields_model=DeliveryException,
            group=group,
            subject_kinds=kinds,
            default_priority=Priority.P3,
            priority_rule=exception_priority,
            specialist_team=carrier_desk,
            sla=SlaPolicy(
                first_response={
                    Priority.P1: BusinessHours(1),
                    Priority.P2: BusinessHours(2),
                    Priority.P3: BusinessHours(8),
                },
                resolution={
                    Priority.P1: BusinessHours(8),
                    Priority.P2: BusinessHours(24),
                    Priority.P3: BusinessHours(72),
                },
            ),
            order=20,
        ),
        RequestType(
            key=CLAIM,
            title="Claim for damage, loss or delay",
            description="We file it with the carrier before the convention's deadline.",
            fields_model=ClaimForm,
            group=group,
            subject_kinds=kinds,
            default_priority=Priority.P2,
            specialist_team=claims_team,
            # Settling a claim takes weeks; the notice deadline is counted by the plugin's own
            # clock (logistics_claims), which brings the claims team in before it passes.
            sla=SlaPolicy(
                first_response={Priority.P1: BusinessHours(2), Priority.P2: BusinessHours(8)},
                resolution={
                    Priority.P1: BusinessHours(7 * 24),
                    Priority.P2: BusinessHours(30 * 24),
                },
            ),
            order=30,
        ),
        RequestType(
            key=INVENTORY,
            title="Ask about stock",
            description="Availability of an item (SKU or GTIN) at a location.",
            fields_model=InventoryQuestion,
            group="Stock",
            subject_kinds=kinds,
            default_priority=Priority.P4,
            order=40,
        ),
        RequestType(
            key=ADDRESS_CHANGE,
            title="Change a delivery address",
            description="We check who you are before changing where goods go.",
            fields_model=AddressChangeForm,
            group=group,
            subject_kinds=kinds,
            default_priority=Priority.P3,
            order=50,
        ),
        RequestType(
            key=RETURN,
            title="Return goods",
            description="Send items back; we check who you are and arrange the pickup.",
            fields_model=ReturnForm,
            group=group,
            subject_kinds=kinds,
            default_priority=Priority.P4,
            order=60,
        ),
    ]
