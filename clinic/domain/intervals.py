"""The one overlap predicate: half-open intervals [start, end)."""

from __future__ import annotations

from typing import Protocol, TypeVar


class _Ordered(Protocol):
    def __lt__(self, other: object, /) -> bool: ...


T = TypeVar("T", bound=_Ordered)


def overlaps(start_a: T, end_a: T, start_b: T, end_b: T) -> bool:
    """Return True if [start_a, end_a) and [start_b, end_b) share a moment.

    Back-to-back intervals (one ends exactly when the other starts) do not
    overlap.
    """
    return start_a < end_b and start_b < end_a
