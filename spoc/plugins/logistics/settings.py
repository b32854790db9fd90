"""The plugin's settings: ``SPOC_LOGISTICS__<FIELD>`` (JSON for the nested mapping)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from spoc import Priority, Spoc, TeamKey
from spoc.plugins.logistics.models import TransportMode

NAME = "logistics"

# Days after delivery within which the carrier must be notified, per convention:
# CMR art. 30 (road): 7 days for hidden damage, 21 for delay; Montreal art. 31 (air): 14 for
# damage, 21 for delay; Hague-Visby art. III(6) (sea): 3 for hidden damage. Parcel carriers'
# terms vary; road figures are the cautious default. Loss has no notice period to count down.
DEFAULT_CLAIM_DAYS: dict[TransportMode, dict[str, int]] = {
    TransportMode.ROAD: {"visible_damage": 0, "hidden_damage": 7, "delay": 21},
    TransportMode.PARCEL: {"visible_damage": 0, "hidden_damage": 7, "delay": 21},
    TransportMode.AIR: {"visible_damage": 14, "hidden_damage": 14, "delay": 21},
    TransportMode.SEA: {"visible_damage": 0, "hidden_damage": 3},
}


class LogisticsSettings(BaseModel):
    """Thresholds are defaults from DOMAINS.md, never constants in the code."""

    model_config = ConfigDict(extra="forbid")

    carrier_desk_team: TeamKey = "carrier_desk"
    authority_team: TeamKey = Field(
        default="account_management",
        description="The account manager's authority: level 2 for large ETA slips.",
    )
    claims_team: TeamKey = "claims"
    buyer_team: TeamKey = "buyers"
    stale_domestic_hours: float = Field(default=24, gt=0)
    stale_international_hours: float = Field(default=72, gt=0)
    eta_slip_hours: float = Field(default=24, gt=0)
    eta_slip_authority_hours: float = Field(default=72, gt=0)
    failed_attempts: int = Field(default=2, ge=1, description="Failed deliveries that alert.")
    notify_customer: bool = Field(
        default=True, description="Tell the customer when the control tower opens a request."
    )
    detect_batch: int = Field(
        default=200, ge=1, le=10_000, description="Most shipments one sweep pass looks at."
    )
    exception_priority: Priority = Priority.P2
    claim_days: dict[TransportMode, dict[str, int]] = Field(
        default_factory=lambda: {mode: dict(days) for mode, days in DEFAULT_CLAIM_DAYS.items()}
    )
    claim_warning_days: float = Field(
        default=2,
        ge=0,
        description="Escalate a claim to the claims team this close to its deadline.",
    )
    max_batch: int = Field(default=1000, ge=1, le=10_000)
    carrier_mail: dict[str, str] = Field(
        default_factory=dict,
        description="Sender domain -> carrier code: their notice mails become tracking events.",
    )


def settings_of(spoc: Spoc) -> LogisticsSettings:
    return spoc.plugin_settings(NAME, LogisticsSettings)
