"""Benchmark the pure planning engine: 10,000 two-year series of mixed protocols.

Run from the repo root: ``.venv/bin/python bench/plan.py [SERIES]``. Prints the
dose targets planned per second and the total time. Parsing the catalog is
done once, outside the timed loop, as the app does per request.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

# Runnable as a script: make the repo root importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic.domain.planning import plan_doses  # noqa: E402
from clinic.domain.regimens import Regimen, load_catalog, parse_regimen  # noqa: E402
from clinic.domain.targets import Measures  # noqa: E402

SERIES = 10_000
YEARS_DAYS = 730


def make_cases(count: int, seed: int = 2027) -> list[tuple[Regimen, date, Measures, list[date]]]:
    """Return ``count`` (regimen, day 0, measures, history) inputs, codes round-robin."""
    rng = random.Random(seed)
    regimens = [parse_regimen(entry) for entry in load_catalog()]
    cases = []
    for index in range(count):
        regimen = regimens[index % len(regimens)]
        day0 = date(2027, 1, 4) + timedelta(days=rng.randrange(365))
        measures = Measures(rng.uniform(45, 130), rng.uniform(150, 195))
        # A third of the series are re-plans after a first dose given late.
        history = [day0 + timedelta(days=rng.randrange(4))] if index % 3 == 0 else []
        cases.append((regimen, day0, measures, history))
    return cases


def main() -> None:
    """Plan every case to a two-year horizon and report the rate."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else SERIES
    cases = make_cases(count)
    started = time.perf_counter()
    planned = 0
    for regimen, day0, measures, history in cases:
        horizon = day0 + timedelta(days=YEARS_DAYS)
        planned += len(plan_doses(regimen, day0, measures, history, horizon=horizon))
    elapsed = time.perf_counter() - started
    codes = len({regimen.code for regimen, *_ in cases})
    print(f"series planned:      {count:,} (two-year horizon, {codes} protocols)")
    print(f"dose targets:        {planned:,} ({planned / count:.1f} per series)")
    print(f"total time:          {elapsed:.2f} s")
    print(f"targets per second:  {planned / elapsed:,.0f}")
    print(f"series per second:   {count / elapsed:,.0f}")


if __name__ == "__main__":
    main()
