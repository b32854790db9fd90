"""Deprecations: a public name that goes away warns for one minor release first.

The promise (docs/stability.md): anything in ``spoc.__all__``, ``spoc.testing``, the services
reference or the hooks that is to be removed or changed incompatibly keeps working, with a
:class:`SpocDeprecationWarning` naming its replacement, for at least one minor release.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class SpocDeprecationWarning(DeprecationWarning):
    """A public SPOC name a plugin uses is deprecated; the message says what to use instead
    and in which release it goes."""


def warn_deprecated(
    what: str, *, since: str, removed_in: str, use: str, stacklevel: int = 2
) -> None:
    """Warn that ``what`` is deprecated since release ``since``, goes in ``removed_in``, and
    that ``use`` replaces it; the warning points at the caller's line."""
    warnings.warn(
        f"{what} is deprecated since SPOC {since} and will be removed in {removed_in}; "
        f"use {use} instead",
        SpocDeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def deprecated(*, since: str, removed_in: str, use: str) -> Callable[[F], F]:
    """Mark a public function or method: each call warns as :func:`warn_deprecated` does."""

    def mark(function: F) -> F:
        @functools.wraps(function)
        def warning_wrapper(*args: Any, **kwargs: Any) -> Any:
            warn_deprecated(
                f"{function.__qualname__}()", since=since, removed_in=removed_in, use=use
            )
            return function(*args, **kwargs)

        return warning_wrapper  # type: ignore[return-value]

    return mark
