"""A plugin that claims the generic plugin's subject kind."""

from spoc import SubjectKind, hookimpl


@hookimpl
def spoc_subject_kinds() -> list[SubjectKind]:
    return [SubjectKind("generic.account", "Account again")]
