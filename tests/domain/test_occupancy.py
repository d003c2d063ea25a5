"""What is already booked at a site: busy intervals per chair and patient, and starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from clinic.domain import placement
from clinic.domain.occupancy import Occupancy

PATIENT = 7
START, END = datetime(2027, 1, 13, 10, tzinfo=UTC), datetime(2027, 1, 13, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_placement_re_exports_occupancy() -> None:
    assert placement.Occupancy is Occupancy


@pytest.mark.parametrize(
    ("start", "end", "free"),
    [
        (START - 3 * HOUR, START - 2 * HOUR, True),  # before
        (START - HOUR, START, True),  # touching before
        (START - HOUR, START + HOUR, False),  # overlapping start
        (START - HOUR, END + HOUR, False),  # containing
        (START, END, False),  # identical
        (START + HOUR, END + HOUR, False),  # overlapping end
        (END, END + HOUR, True),  # touching after
        (END + HOUR, END + 2 * HOUR, True),  # after
    ],
)
def test_occupancy_interval_cases(start: datetime, end: datetime, free: bool) -> None:
    occupancy = Occupancy.from_busy([(1, START, END)], [(PATIENT, START, END)])
    assert occupancy.chair_free(1, start, end) is free
    assert occupancy.patient_free(PATIENT, start, end) is free
    assert occupancy.chair_free(2, start, end)


def test_occupancy_merges_overlapping_input() -> None:
    rows = [(1, START, START + HOUR), (1, START + HOUR / 2, END), (1, START, END)]
    occupancy = Occupancy.from_busy(rows)
    assert not occupancy.chair_free(1, END - HOUR / 4, END)
    assert occupancy.chair_free(1, END, END + HOUR)


def test_add_bridging_two_intervals_merges_all_three() -> None:
    occupancy = Occupancy.from_busy([(1, START, START + HOUR), (1, END, END + HOUR)])
    assert occupancy.chair_free(1, START + HOUR, END)
    occupancy.add(1, PATIENT, START + HOUR / 2, END + HOUR / 2)
    assert not occupancy.chair_free(1, START + HOUR, END)
    assert not occupancy.patient_free(PATIENT, END, END + HOUR / 4)
    assert occupancy.chair_free(1, END + HOUR, END + 2 * HOUR)


def test_other_time_zones_are_compared_as_instants() -> None:
    plus_two = timezone(timedelta(hours=2))
    occupancy = Occupancy.from_busy([(1, START.astimezone(plus_two), END.astimezone(plus_two))])
    assert not occupancy.chair_free(1, START, START + HOUR)
    assert occupancy.starts_between(START, END) == 0  # only the starts passed in count
    occupancy = Occupancy.from_busy(starts=[START.astimezone(plus_two)])
    assert occupancy.starts_between(START, START + HOUR) == 1


def test_occupancy_fork_sees_parent_and_keeps_its_own() -> None:
    parent = Occupancy.from_busy(starts=[START])
    child = parent.fork()
    child.add(1, PATIENT, END, END + HOUR)
    assert child.starts_between(START, END + HOUR) == 2
    assert parent.starts_between(START, END + HOUR) == 1
    assert parent.chair_free(1, END, END + HOUR) and not child.chair_free(1, END, END + HOUR)


def test_occupancy_rejects_naive_and_reversed_intervals() -> None:
    with pytest.raises(ValueError, match="naive"):
        Occupancy.from_busy([(1, datetime(2027, 1, 13, 10), datetime(2027, 1, 13, 11))])
    with pytest.raises(ValueError, match="ends before"):
        Occupancy.from_busy([(1, END, START)])
    with pytest.raises(ValueError, match="ends before"):
        Occupancy().add(1, PATIENT, END, START)
