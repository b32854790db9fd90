"""The agent console: queues, request detail, subjects, absences, administration."""

from spoc.core.console import access as access
from spoc.core.console import admin as admin
from spoc.core.console import audit as audit
from spoc.core.console import contacts as contacts
from spoc.core.console import queues as queues
from spoc.core.console import requests as requests
from spoc.core.console import sso as sso
from spoc.core.console import subjects as subjects
from spoc.core.console.auth import bp

__all__ = ["bp"]
