"""The event and its sessions as iCalendar, and the event as schema.org ``Event`` JSON-LD.

Each session is one VEVENT whose UID never changes; SEQUENCE counts its moves and a cancelled
session is STATUS:CANCELLED (RFC 5545/5546), so calendars that subscribed update in place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as VEvent

from spoc.plugins.events.models import Event, EventSession

PRODID = "-//SPOC//Event help desk//EN"


def event_ics(event: Event, sessions: Sequence[EventSession], host: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", event.name)
    calendar.add("x-wr-timezone", event.timezone)
    main = VEvent()
    main.add("uid", f"event-{event.id}@{host}")
    main.add("sequence", event.sequence)
    main.add("dtstamp", event.updated_at)
    main.add("dtstart", event.starts_at)
    main.add("dtend", event.ends_at)
    main.add("summary", event.name)
    main.add("location", event.venue)
    main.add("status", "CONFIRMED")
    calendar.add_component(main)
    for session in sessions:
        item = VEvent()
        item.add("uid", f"session-{session.id}@{host}")
        item.add("sequence", session.sequence)
        item.add("dtstamp", session.updated_at)
        item.add("dtstart", session.starts_at)
        item.add("dtend", session.ends_at)
        item.add("summary", session.title)
        item.add("location", f"{session.room}, {event.venue}")
        if session.speaker:
            item.add("description", f"Speaker: {session.speaker}")
        item.add("status", "CANCELLED" if session.status == "cancelled" else "CONFIRMED")
        item.add("related-to", f"event-{event.id}@{host}")
        calendar.add_component(item)
    return bytes(calendar.to_ical())


def event_jsonld(event: Event, sessions: Sequence[EventSession], url: str) -> str:
    """schema.org ``Event`` with its sessions as ``subEvent``; safe to embed in a <script>."""
    document = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.name,
        "url": url,
        "startDate": event.starts_at.astimezone(_zone(event)).isoformat(),
        "endDate": event.ends_at.astimezone(_zone(event)).isoformat(),
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "maximumAttendeeCapacity": event.capacity,
        "location": {"@type": "Place", "name": event.venue, "address": event.venue},
        "subEvent": [
            {
                "@type": "Event",
                "name": s.title,
                "startDate": s.starts_at.astimezone(_zone(event)).isoformat(),
                "endDate": s.ends_at.astimezone(_zone(event)).isoformat(),
                "eventStatus": "https://schema.org/EventCancelled"
                if s.status == "cancelled"
                else "https://schema.org/EventScheduled",
                "location": {"@type": "Place", "name": f"{s.room}, {event.venue}"},
                **({"performer": {"@type": "Person", "name": s.speaker}} if s.speaker else {}),
            }
            for s in sessions
        ],
    }
    text = json.dumps(document, ensure_ascii=False, indent=2)
    # Never let a value close the <script> element it is embedded in.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _zone(event: Event) -> ZoneInfo:
    return ZoneInfo(event.timezone)
