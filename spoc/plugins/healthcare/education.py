"""Health education: articles the plugin ships, and those an organisation adds.

An organisation's articles are plain-text files in ``SPOC_HEALTHCARE__ARTICLES_DIR``: the first
line is the title, the second the summary, the rest the body (blank lines between paragraphs).
The file name (``diabetes-diet.txt``) becomes the key ``healthcare.org_diabetes_diet``.
"""

from __future__ import annotations

import re
from pathlib import Path

from spoc import KnowledgeArticle
from spoc.plugins.healthcare.records import APPOINTMENT, BILLING, FOLLOW_UP, REFERRAL

SHIPPED = [
    KnowledgeArticle(
        key="healthcare.emergency",
        title="When to call the emergency number",
        summary="Chest pain, trouble breathing, signs of a stroke or thoughts of suicide: "
        "call now, do not write to us.",
        body=(
            "Call your local emergency number at once (112 in Europe, 911 in North America, "
            "999 in the UK) for chest pain or pressure, trouble breathing, sudden weakness or "
            "a drooping face, severe bleeding, a seizure, or if you might hurt yourself.\n\n"
            "This service is answered in office hours by patient navigators, not by "
            "clinicians: it is never the right place for an emergency."
        ),
        keywords=("emergency", "chest pain", "breathing", "stroke", "suicide", "urgent"),
        order=1,
    ),
    KnowledgeArticle(
        key="healthcare.prepare_appointment",
        title="Preparing for your appointment",
        summary="What to bring, how early to come, and how to ask for an interpreter.",
        body=(
            "Bring your appointment number (APT-…), a photo ID, your insurance card and a "
            "list of the medicines you take.\n\n"
            "Come 15 minutes early for a first visit. If you need an interpreter or step-free "
            "access, say so when you book: we arrange it free of charge.\n\n"
            "If you cannot come, cancel as early as you can: someone on the waiting list can "
            "have your slot."
        ),
        request_types=(APPOINTMENT,),
        keywords=("appointment", "interpreter", "cancel", "visit", "bring"),
        order=10,
    ),
    KnowledgeArticle(
        key="healthcare.understand_bill",
        title="Understanding your bill, and your right to dispute it",
        summary="How to read a bill, what a good-faith estimate is, and when you can dispute.",
        body=(
            "Your bill lists each service, what your insurer paid and what is left for you. "
            "Compare it with the good-faith estimate you were given before care.\n\n"
            "If the bill is $400 or more above the estimate, you can start a patient-provider "
            "dispute within 120 days of the bill's date. Your navigator helps you with the "
            "form; while the dispute runs the amount is not sent to collections."
        ),
        request_types=(BILLING,),
        keywords=("bill", "invoice", "insurance", "estimate", "dispute", "claim"),
        order=20,
    ),
    KnowledgeArticle(
        key="healthcare.referrals",
        title="What happens after a referral",
        summary="Who receives it, how long acceptance takes, and when to ask us.",
        body=(
            "The service you are referred to reviews the referral and accepts it, usually "
            "within five working days; they then contact you with a date.\n\n"
            "If you have heard nothing after a week, ask us: we chase it for you."
        ),
        request_types=(REFERRAL,),
        keywords=("referral", "specialist", "waiting"),
        order=30,
    ),
    KnowledgeArticle(
        key="healthcare.after_discharge",
        title="After you leave hospital",
        summary="Your follow-up call, your medicines, and the signs that need a doctor.",
        body=(
            "Your navigator calls you within two working days of your discharge to check how "
            "you are and that your follow-up visit is booked.\n\n"
            "Take your medicines as listed in your discharge letter. If a symptom is new or "
            "worse, tell us at once; if it is severe, call the emergency number."
        ),
        request_types=(FOLLOW_UP,),
        keywords=("discharge", "hospital", "medicine", "follow-up", "recovery"),
        order=40,
    ),
]


def articles(folder: str | None) -> list[KnowledgeArticle]:
    found = list(SHIPPED)
    if folder:
        for path in sorted(Path(folder).glob("*.txt")):
            found.append(read_article(path))
    return found


def read_article(path: Path) -> KnowledgeArticle:
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    if len(lines) < 3 or not lines[0].strip() or not lines[1].strip():
        raise ValueError(f"{path}: title on line 1, summary on line 2, then the text")
    key = "healthcare.org_" + re.sub(r"[^a-z0-9]+", "_", path.stem.lower()).strip("_")
    return KnowledgeArticle(
        key=key,
        title=lines[0].strip(),
        summary=lines[1].strip(),
        body="\n".join(lines[2:]).strip(),
        order=100,
    )
