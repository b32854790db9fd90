"""Registries of typed contributions, keyed by unique names and ordered by data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from spoc.core.kernel.errors import DuplicateContributionError

T = TypeVar("T")


class Registry(Generic[T]):
    """Items by unique key, remembering which plugin contributed each.

    Iteration order is ``(order, key)`` — explicit data, never registration order.
    """

    def __init__(self, kind: str, key: Callable[[T], str], order: Callable[[T], int]) -> None:
        self.kind = kind
        self._key = key
        self._order = order
        self._items: dict[str, tuple[T, str]] = {}

    def add(self, item: T, plugin: str) -> None:
        key = self._key(item)
        if key in self._items:
            raise DuplicateContributionError(self.kind, key, self._items[key][1], plugin)
        self._items[key] = (item, plugin)

    def get(self, key: str) -> T | None:
        entry = self._items.get(key)
        return entry[0] if entry else None

    def owner(self, key: str) -> str | None:
        entry = self._items.get(key)
        return entry[1] if entry else None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        items = sorted(self._items.values(), key=lambda e: (self._order(e[0]), self._key(e[0])))
        return iter(item for item, _ in items)

    def names(self) -> list[str]:
        """Keys in iteration order."""
        return [self._key(item) for item in self]
