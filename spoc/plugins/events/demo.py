"""Demo: an upcoming conference with vendors (one late on a deliverable and missing its
certificate), attendees with accessibility needs, and a festival under way with incidents."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from spoc import DemoContext
from spoc.plugins.events import attendees, program, vendors
from spoc.plugins.events.program import EventPlan
from spoc.plugins.events.settings import settings_of


def add_demo_data(demo: DemoContext) -> None:
    spoc = demo.spoc
    settings = settings_of(spoc)
    for key, name, members in (
        (settings.accessibility_team, "Accessibility coordination", ["dana"]),
        (settings.safety_team, "Event safety", ["lee"]),
        (settings.vendor_team, "Vendor management", ["kim"]),
        (settings.operations_team, "Event operations", ["sam"]),
        (settings.organiser_team, "Organisers", ["ada"]),
    ):
        spoc.directory.add_team(key=key, name=name, members=[demo.agents[m].id for m in members])
    now = spoc.clock.now()
    zone = "Europe/Berlin"
    tz = program.zone(zone)
    in_three_weeks = (
        (now + timedelta(days=21))
        .astimezone(tz)
        .replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
    )
    conference = program.create_event(
        spoc,
        settings,
        demo.actor("ada"),
        EventPlan(
            "DEVCONF",
            "DevConf Berlin",
            "Messe Berlin, Hall 7",
            zone,
            in_three_weeks,
            in_three_weeks + timedelta(days=1, hours=9),
            800,
            load_in_starts=in_three_weeks - timedelta(days=1),
            manager_id=demo.agents["sam"].id,
            deputies=(demo.agents["lee"].id,),
        ),
    )
    keynote = program.add_session(
        spoc,
        conference.id,
        title="Keynote: one point of contact",
        room="Hall 7A",
        starts=in_three_weeks,
        ends=in_three_weeks + timedelta(hours=1),
        speaker="Ada Lovelace",
    )
    program.add_session(
        spoc,
        conference.id,
        title="Workshop: accessible events",
        room="Room 12",
        starts=in_three_weeks + timedelta(hours=2),
        ends=in_three_weeks + timedelta(hours=4),
        speaker="Grace Hopper",
    )
    catering = vendors.add_vendor(
        spoc,
        settings,
        conference.id,
        vendors.VendorPlan(
            "CATER",
            "Tasty Catering GmbH",
            "ops@tasty.example",
            "Jonas Weber",
            "+49 30 1234",
            contract_ref="C-2026-17",
            contract_value=24000,
            budget_tolerance=500,
            insurance_expires_on=(now + timedelta(days=365)).date(),
        ),
    )
    vendors.add_deliverable(
        spoc,
        settings,
        catering.id,
        "Final menu with allergens",
        now + timedelta(days=7),
        "Signed off by the organiser",
    )
    av = vendors.add_vendor(
        spoc,
        settings,
        conference.id,
        vendors.VendorPlan("AV", "Bright Stage AV", "crew@brightstage.example", "Mia Klein"),
    )
    # Late: the stage plan was due yesterday (the sweep opens and escalates it).
    vendors.add_deliverable(
        spoc,
        settings,
        av.id,
        "Stage and rigging plan",
        now - timedelta(days=1),
        "Approved by safety",
    )
    vendors.issue_portal_link(spoc, settings, catering.id)
    csv = (
        "name,email,order_code,ticket_type\n"
        "Amira Saleh,amira@example.com,ORD-1001,Full pass\n"
        "Ben Okafor,ben@example.com,ORD-1002,Day pass\n"
        "Chen Wei,chen@example.com,ORD-1003,Full pass\n"
    )
    attendees.import_attendees(spoc, conference.id, attendees.read_rows(StringIO(csv)))
    for name, email, needs, details in (
        ("Amira Saleh", "amira@example.com", ["step_free_access", "dietary"], "Wheelchair; vegan"),
        ("Ben Okafor", "ben@example.com", ["sign_language_interpreter"], "DGS"),
    ):
        demo.requests.create(
            type_key="events.access_need",
            fields={
                "needs": needs,
                "sessions": str(keynote.id),
                "details": details,
                "consent": True,
            },
            requester={"name": name, "email": email},
            subject_id=conference.subject_id,
        )
    demo.requests.create(
        type_key="events.registration",
        fields={"order_code": "ORD-1003", "summary": "Can I transfer my ticket to a colleague?"},
        requester={"name": "Chen Wei", "email": "chen@example.com"},
        subject_id=conference.subject_id,
    )
    # A festival under way today: event-day SLAs in minutes, incidents on the board.
    started = (
        (now - timedelta(hours=2)).astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    )
    festival = program.create_event(
        spoc,
        settings,
        demo.actor("ada"),
        EventPlan(
            "SUMMERFEST",
            "Summer Sound Festival",
            "Tempelhofer Feld",
            zone,
            started,
            started + timedelta(hours=12),
            5000,
            load_in_starts=started - timedelta(hours=6),
            manager_id=demo.agents["lee"].id,
            safety_lead_id=demo.agents["dana"].id,
        ),
    )
    for location, category, severity, what in (
        ("Main stage, front left", "medical", "high", "A visitor fainted near the barrier"),
        ("Gate 3", "security", "medium", "Queue pushing at the entrance"),
        ("Food court", "facilities", "low", "A water tap is leaking"),
    ):
        demo.requests.create(
            type_key="events.incident",
            fields={
                "location": location,
                "category": category,
                "severity": severity,
                "what_happened": what,
            },
            requester={"name": "Steward desk", "email": "stewards@summerfest.example"},
            subject_id=festival.subject_id,
        )
