"""Dicts that count their changes, so that a large listing can keep its sorted answer until something changes.

A fleet of hundreds of properties has tens of thousands of bookings; a client reads them a hundred per page,
and filtering and sorting all of them again for every page made the simulator, not the client, the slow part
of a scale run. :class:`Generation` is the change counter; :class:`TrackedDict` bumps it on every change made
through the dict's methods (``|=`` aside), both for the table (``bookings[id] = ...``, ``del``, ``pop``) and
for the records in it (``record["check_in"] = ...``, ``record.update(...)``). A plain dict put into a table
counts as a change when it is put there, but not when it is changed in place later: records are made tracked
by the state helpers that create them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any


class Generation:
    """A change counter shared by a table and its records."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        """Start at 0."""
        self.value = 0

    def bump(self) -> None:
        """Something changed."""
        self.value += 1


class TrackedDict(dict[str, Any]):
    """A dict that bumps its :class:`Generation` on every change (JSON-encodes and compares as a dict).

    :attr:`version` counts the changes of this dict alone (a record's encoded form can be kept until it
    changes).
    """

    __slots__ = ("generation", "version")

    def __init__(self, generation: Generation, *args: Any, **kwargs: Any) -> None:
        """Count changes in ``generation``; the contents as ``dict(*args, **kwargs)``."""
        super().__init__(*args, **kwargs)
        self.generation = generation
        self.version = 0

    def _changed(self) -> None:
        self.version += 1
        self.generation.bump()

    def __setitem__(self, key: str, value: Any) -> None:
        """Set, and count a change."""
        self._changed()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        """Delete, and count a change."""
        self._changed()
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        """Pop, and count a change."""
        self._changed()
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        """Pop an item, and count a change."""
        self._changed()
        return super().popitem()

    def clear(self) -> None:
        """Empty, and count a change."""
        self._changed()
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Update, and count a change."""
        self._changed()
        super().update(*args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """Set if missing, and count a change."""
        self._changed()
        return super().setdefault(key, default)

    def __reduce__(self) -> tuple[Any, ...]:
        """Copies (``copy.deepcopy``, pickling) are plain dicts: only the state's own tables are tracked."""
        return (dict, (dict(self),))


class KeptListings:
    """Sorted listings of a table, kept per query until the table (or a record in it) changes."""

    def __init__(self, generation: Generation, size: int = 64) -> None:
        """Keep up to ``size`` listings, for the table whose changes ``generation`` counts."""
        self._generation = generation
        self._size = size
        self._kept: dict[Hashable, tuple[int, list[Any]]] = {}

    def get(self, key: Hashable, build: Callable[[], list[Any]]) -> list[Any]:
        """A copy of the listing ``key`` (``build()`` when the table changed since it was kept)."""
        kept = self._kept.get(key)
        if kept is None or kept[0] != self._generation.value:
            if len(self._kept) >= self._size:
                self._kept.clear()
            kept = self._kept[key] = (self._generation.value, build())
        return list(kept[1])
