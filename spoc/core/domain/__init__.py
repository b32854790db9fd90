"""The domain layer: models and the contact → request → escalation lifecycle.

Intake and changes, routing, SLA clocks, escalation, the sweep, the directory of people and
subjects, access rules, the audit trail and the outbox. No module here imports Flask."""
