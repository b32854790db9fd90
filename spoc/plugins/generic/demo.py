"""Demo accounts and requests in every status, filed through the service layer."""

from __future__ import annotations

from typing import Any

from spoc import Actor, DemoContext, Status

ACCOUNT = "generic.account"


def add_demo_requests(demo: DemoContext) -> None:
    northwind = demo.add_subject(
        ACCOUNT, "Northwind Traders", spoc="dana", deputies=["lee", "sam"], external_ref="NW-001"
    )
    contoso = demo.add_subject(
        ACCOUNT, "Contoso Ltd", spoc="lee", deputies=["sam"], external_ref="CT-002"
    )
    fabrikam = demo.add_subject(ACCOUNT, "Fabrikam Inc", spoc="sam", external_ref="FB-003")
    requests = demo.requests

    def file(subject_id: int | None, type_key: str, who: str, **fields: Any) -> int:
        request = requests.create(
            type_key=type_key,
            fields=fields,
            requester={"name": who, "email": f"{who.split()[0].lower()}@customer.example"},
            subject_id=subject_id,
        )
        return request.id

    lee, sam, kim = demo.actor("lee"), demo.actor("sam"), demo.actor("kim")

    # new: Dana is away, so Lee (first deputy) gets it and the timeline says why.
    file(northwind.id, "generic.question", "Maria Anders", summary="Can we add two more users?")

    # open: a reply takes it into work.
    rid = file(
        contoso.id,
        "generic.incident",
        "Thomas Hardy",
        summary="Invoices portal shows a blank page",
        description="Since this morning, for everyone in finance.",
        impact="medium",
        urgency="high",
    )
    requests.post_message(rid, lee, "Thanks Thomas, we are looking into it now.")

    # open and escalated to specialists, who answered with a note.
    rid = file(
        fabrikam.id,
        "generic.incident",
        "Yang Wang",
        summary="VPN drops every ten minutes",
        description="All remote staff are affected.",
        impact="high",
        urgency="high",
    )
    requests.post_message(rid, sam, "We see it too and have escalated to our network team.")
    demo.escalations.escalate(rid, sam, team_key="specialists", reason="Needs network specialists")
    requests.post_message(rid, kim, "Looks like the concentrator; patching tonight.", internal=True)

    # waiting for the requester.
    rid = file(
        contoso.id,
        "generic.service_request",
        "Thomas Hardy",
        service="access",
        summary="Access to the reporting system for a new analyst",
    )
    requests.post_message(rid, lee, "Which team is the analyst in?")
    requests.transition(rid, Status.WAITING, lee, reason="asked for the team name")

    # resolved, waiting for the requester's confirmation.
    rid = file(
        fabrikam.id,
        "generic.service_request",
        "Yang Wang",
        service="password_reset",
        summary="Locked out of the CRM",
    )
    requests.post_message(rid, sam, "Your password is reset; check your email.")
    requests.transition(rid, Status.RESOLVED, sam)

    # closed: confirmed by the requester, with feedback.
    rid = file(fabrikam.id, "generic.question", "Yang Wang", summary="Where are the SLA reports?")
    requests.post_message(rid, sam, "Under Reports, monthly. I have sent you the link.")
    requests.transition(rid, Status.RESOLVED, sam)
    request = requests.get(rid, Actor.system())
    requester = Actor.requester(request.contact_id, "Yang Wang")
    requests.give_feedback(rid, requester, 5, "Quick and clear, thank you.")
    requests.transition(rid, Status.CLOSED, requester)

    # cancelled by the requester.
    rid = file(northwind.id, "generic.question", "Maria Anders", summary="Office closed Friday?")
    request = requests.get(rid, Actor.system())
    requests.transition(rid, Status.CANCELLED, Actor.requester(request.contact_id, "Maria Anders"))

    # no subject: lands with the desk for triage.
    file(None, "generic.question", "Ana Trujillo", summary="Who is our account manager?")
