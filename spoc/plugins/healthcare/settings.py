"""The healthcare plugin's settings: ``SPOC_HEALTHCARE__<KEY>`` (JSON for lists and maps)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from spoc import Spoc, TeamKey

# Phrases that mean "this may be an emergency", per language. Matched case-insensitively on
# word boundaries in every text a patient types. Organisations extend or replace them.
DEFAULT_RED_FLAGS: dict[str, list[str]] = {
    "en": [
        "chest pain",
        "can't breathe",
        "cannot breathe",
        "cant breathe",
        "difficulty breathing",
        "suicidal",
        "kill myself",
        "end my life",
        "overdose",
        "stroke",
        "face drooping",
        "unconscious",
        "severe bleeding",
        "bleeding heavily",
        "seizure",
    ],
    "es": ["dolor de pecho", "no puedo respirar", "suicida", "quiero morir", "sangrado abundante"],
    "fr": ["douleur thoracique", "je ne peux pas respirer", "suicidaire", "saignement abondant"],
    "de": ["brustschmerzen", "kann nicht atmen", "atemnot", "suizid", "starke blutung"],
}

DEFAULT_EMERGENCY_NOTICES: dict[str, str] = {
    "en": (
        "If this is an emergency, call your local emergency number now (112 in Europe, "
        "911 in North America, 999 in the UK). Do not wait for our answer: this service is "
        "not watched around the clock. A clinician has been alerted to your message."
    ),
    "es": (
        "Si es una emergencia, llame ahora a su número de emergencias local (112 en Europa, "
        "911 en Norteamérica). No espere nuestra respuesta. Hemos avisado a un profesional "
        "clínico."
    ),
    "fr": (
        "En cas d'urgence, appelez maintenant votre numéro d'urgence local (112 en Europe, "
        "15 en France). N'attendez pas notre réponse. Un soignant a été alerté."
    ),
    "de": (
        "Im Notfall rufen Sie jetzt Ihre örtliche Notrufnummer an (112 in Europa). Warten "
        "Sie nicht auf unsere Antwort. Eine medizinische Fachkraft wurde informiert."
    ),
}


class HealthcareSettings(BaseModel):
    """Teams, thresholds and the red-flag list; every value has a sensible default."""

    model_config = ConfigDict(extra="forbid")

    clinical_team: TeamKey = "clinical"
    billing_team: TeamKey = "billing"
    referrals_team: TeamKey = "referrals"
    red_flags: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_RED_FLAGS))
    emergency_notices: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_EMERGENCY_NOTICES)
    )
    default_language: str = "en"
    # Billing: the No Surprises Act's dispute threshold and prior-authorisation waits.
    dispute_threshold: float = Field(default=400.0, gt=0)
    prior_auth_urgent_hours: int = Field(default=72, gt=0)
    prior_auth_standard_days: int = Field(default=7, gt=0)
    # Referrals (FHIR Task): accepted within N business days; a result within N days.
    referral_accept_business_days: int = Field(default=5, gt=0)
    referral_result_days: int = Field(default=30, gt=0)
    # Post-discharge follow-up.
    followup_failed_attempts: int = Field(default=2, ge=1)
    # Hours in the organisation's business day, to turn "N business days" into business time.
    business_day_hours: int = Field(default=8, ge=1, le=24)
    # A cancellation this close to the slot frees it for the wait list.
    late_cancel_hours: int = Field(default=24, ge=0)
    # Extra education articles: a folder of Markdown-ish text files (title on line one).
    articles_dir: str | None = None
    # The access log's HMAC key material; unset: derived from SPOC_SECRET_KEY. Set it to the
    # old SPOC_SECRET_KEY when rotating that, so the log stays verifiable.
    audit_key: SecretStr | None = Field(default=None, min_length=32)

    @field_validator("red_flags")
    @classmethod
    def _phrases(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for language, phrases in value.items():
            if not all(p.strip() for p in phrases):
                raise ValueError(f"empty red-flag phrase for language {language!r}")
        return {lang: [p.strip().lower() for p in phrases] for lang, phrases in value.items()}


def settings_of(spoc: Spoc) -> HealthcareSettings:
    """The healthcare settings of this app (validated at start-up)."""
    return spoc.plugin_settings("healthcare", HealthcareSettings)
