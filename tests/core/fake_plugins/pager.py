"""A notification channel from a plugin: a pager that records what it was sent."""

from __future__ import annotations

from spoc import NotificationChannel, Outgoing, hookimpl

PAGED: list[Outgoing] = []


@hookimpl
def spoc_notification_channels() -> list[NotificationChannel]:
    return [NotificationChannel("pager", PAGED.append)]
