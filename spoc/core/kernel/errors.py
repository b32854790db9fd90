"""Errors the core raises on purpose, each with a message a person can act on."""

from __future__ import annotations


class SpocError(Exception):
    """Base of every deliberate SPOC error."""


class StartupError(SpocError):
    """The application cannot start; the message says why and what to do."""


class PluginError(StartupError):
    """A plugin cannot be loaded or contributes something invalid; names the plugin."""

    def __init__(self, plugin: str, cause: str) -> None:
        self.plugin = plugin
        self.cause = cause
        super().__init__(f"plugin {plugin!r}: {cause}")


class PluginContractError(PluginError):
    """A plugin broke the contract of a hook: a wrong answer, a contribution that cannot be
    built, or a pluggy feature SPOC does not honour. Names the plugin, the hook, and the cause
    (what was expected and what came, or what to do instead)."""

    def __init__(
        self,
        plugin: str,
        hook: str,
        cause: str = "",
        *,
        expected: str | None = None,
        got: str | None = None,
    ) -> None:
        self.hook = hook
        self.expected = expected
        self.got = got
        if expected is not None:
            super().__init__(plugin, f"{hook} returned {got}, expected {expected}")
        else:
            super().__init__(plugin, f"{hook}: {cause}")


class DuplicateContributionError(PluginError):
    """Two plugins contributed something under the same unique name."""

    def __init__(self, kind: str, name: str, first_plugin: str, second_plugin: str) -> None:
        self.kind = kind
        self.name = name
        self.first_plugin = first_plugin
        self.second_plugin = second_plugin
        SpocError.__init__(
            self,
            f"duplicate {kind} {name!r}: contributed by plugin {first_plugin!r} "
            f"and by plugin {second_plugin!r}",
        )
        self.plugin = second_plugin
        self.cause = f"duplicate {kind} {name!r}"


class DatabaseNotReadyError(StartupError):
    """The database schema is behind the code."""


class ServiceError(SpocError):
    """A refused service-layer call. Nothing was changed."""


class NotFoundError(ServiceError):
    pass


class ValidationFailed(ServiceError):
    """Input did not validate; ``errors`` maps a field path to its message."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        self.errors = errors or {}
        detail = "; ".join(f"{k}: {v}" for k, v in self.errors.items())
        super().__init__(f"{message}: {detail}" if detail else message)


class IllegalTransition(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class ConflictError(ServiceError):
    """The request changed since the caller read it (optimistic locking)."""

    def __init__(self, reference: str, current_version: int | None) -> None:
        self.reference = reference
        self.current_version = current_version
        super().__init__(
            f"{reference} was changed by someone else (now at version {current_version}); "
            "reload it and try again"
        )
