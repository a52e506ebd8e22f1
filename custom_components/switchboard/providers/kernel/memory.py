"""Bounded id memory: what a client remembers of recent calls, oldest forgotten."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable


class BoundedMap[K: Hashable, V]:
    """An ordered mapping of at most `limit` entries.

    Putting or touching a key makes it the newest; beyond the limit the oldest
    entries are forgotten. Reading with `get` changes no order.
    """

    __slots__ = ("_items", "_limit")

    def __init__(self, limit: int) -> None:
        """Remember at most `limit` keys."""
        self._items: OrderedDict[K, V] = OrderedDict()
        self._limit = limit

    def put(self, key: K, value: V) -> None:
        """Set `key` to `value` as the newest entry."""
        self._items[key] = value
        self._items.move_to_end(key)
        self._trim()

    def touch(self, key: K, create: Callable[[], V]) -> V:
        """Return the value of `key` (made with `create` when new) as the newest."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = create()
        self.put(key, value)
        return value

    def get(self, key: K) -> V | None:
        """Return the value of `key`, or None when it is not remembered."""
        return self._items.get(key)

    def __getitem__(self, key: K) -> V:
        """Return the value of `key` (KeyError when it is not remembered)."""
        return self._items[key]

    def forget(self, key: K) -> None:
        """Drop `key` if it is remembered."""
        self._items.pop(key, None)

    def __contains__(self, key: object) -> bool:
        """Whether `key` is remembered."""
        return key in self._items

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._items)

    def _trim(self) -> None:
        while len(self._items) > self._limit:
            self._items.popitem(last=False)


class BoundedSet[K: Hashable]:
    """A set of at most `limit` keys; adding a key again makes it the newest."""

    __slots__ = ("_keys",)

    def __init__(self, limit: int) -> None:
        """Remember at most `limit` keys."""
        self._keys: BoundedMap[K, None] = BoundedMap(limit)

    def add(self, key: K) -> None:
        """Remember `key` as the newest."""
        self._keys.put(key, None)

    def discard(self, key: K) -> None:
        """Forget `key` if it is remembered."""
        self._keys.forget(key)

    def __contains__(self, key: object) -> bool:
        """Whether `key` is remembered."""
        return key in self._keys

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._keys)
