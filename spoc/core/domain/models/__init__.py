"""Core tables. Plugins keep their own tables (``<plugin>_...``) and never alter these.

One module per area; import the tables from here."""

from spoc.core.domain.models.accounts import (
    AgentRecoveryCode,
    AgentSession,
    AgentTwoFactor,
    ApiToken,
    IdempotencyRecord,
    LoginThrottle,
    PasswordReset,
)
from spoc.core.domain.models.assist import AssistPending, AssistVector
from spoc.core.domain.models.attachments import Attachment
from spoc.core.domain.models.audit import AdminAuditEntry
from spoc.core.domain.models.columns import NO_DEADLINE, Visibility
from spoc.core.domain.models.imports import ImportJob
from spoc.core.domain.models.knowledge import (
    ArticleFeedbackDay,
    KbArticle,
    KbArticleRequestType,
    KbArticleVersion,
    SavedReply,
)
from spoc.core.domain.models.links import MagicLink, SubjectIntakeLink, TrackingToken
from spoc.core.domain.models.mail import InboundMail
from spoc.core.domain.models.outbox import OutboxMessage
from spoc.core.domain.models.people import (
    Absence,
    Agent,
    Contact,
    Subject,
    SubjectDeputy,
    Team,
    TeamMember,
)
from spoc.core.domain.models.relations import RequestCc, RequestLink, RequestWatcher
from spoc.core.domain.models.reports import (
    DigestSubscription,
    EscalationFact,
    ReportDay,
    ReportDirtyDay,
    RequestFact,
)
from spoc.core.domain.models.requests import Escalation, Feedback, Message, Request, TimelineEvent
from spoc.core.domain.models.sla import EscalationTrigger, SlaClock, SlaClockEvent
from spoc.core.domain.models.watches import Watch

__all__ = [
    "NO_DEADLINE",
    "Absence",
    "AdminAuditEntry",
    "Agent",
    "AgentRecoveryCode",
    "AgentSession",
    "AgentTwoFactor",
    "ApiToken",
    "ArticleFeedbackDay",
    "AssistPending",
    "AssistVector",
    "Attachment",
    "Contact",
    "DigestSubscription",
    "Escalation",
    "EscalationFact",
    "EscalationTrigger",
    "Feedback",
    "IdempotencyRecord",
    "ImportJob",
    "InboundMail",
    "KbArticle",
    "KbArticleRequestType",
    "KbArticleVersion",
    "LoginThrottle",
    "MagicLink",
    "Message",
    "OutboxMessage",
    "PasswordReset",
    "ReportDay",
    "ReportDirtyDay",
    "Request",
    "RequestCc",
    "RequestFact",
    "RequestLink",
    "RequestWatcher",
    "SavedReply",
    "SlaClock",
    "SlaClockEvent",
    "Subject",
    "SubjectDeputy",
    "SubjectIntakeLink",
    "Team",
    "TeamMember",
    "TimelineEvent",
    "TrackingToken",
    "Visibility",
    "Watch",
]
