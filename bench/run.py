"""Run the scheduling benchmarks and write bench/report.md.

    .venv/bin/python bench/run.py [--sizes 10000,100000,1000000] [--database URL]

Measures, in one run on one database: the day-schedule page and
``GET /api/v1/schedule`` (server time through the WSGI app, no network) at each
table size, against a minimal page on the same stack; then preview + book of a
2-year natalizumab series in the busy clinic. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench.generate import MEASURED_DAY, PATIENTS, build_clinic, grow_to  # noqa: E402
from clinic import create_app  # noqa: E402
from clinic.extensions import db  # noqa: E402

REPEAT = 30
REPORT = Path(__file__).with_name("report.md")


def make_app(url: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 64,
                      "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench"})
    app.add_url_rule("/bench-minimal", "bench_minimal", lambda: "ok")  # the stack's floor
    return app


class QueryCounter:
    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.count += 1


def timed(call: Callable[[], Any], counter: QueryCounter, repeat: int = REPEAT) -> dict[str, float]:
    """Return p50/p95 milliseconds and queries per call."""
    call()  # warm caches and the connection pool
    samples, queries = [], []
    for _ in range(repeat):
        before = counter.count
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        queries.append(counter.count - before)
        assert response.status_code in (200, 201), (response.status_code, response.get_data(as_text=True)[:300])
    samples.sort()
    return {"p50": statistics.median(samples), "p95": samples[int(len(samples) * 0.95) - 1],
            "queries": statistics.median(queries)}


def measure_pages(app, counter: QueryCounter, token: str) -> dict[str, dict[str, float]]:
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": "bench-password"})
    api = {"Authorization": f"Bearer {token}"}
    day = MEASURED_DAY.isoformat()
    return {
        "minimal page": timed(lambda: client.get("/bench-minimal"), counter),
        "day schedule page": timed(lambda: client.get(f"/schedule/?site_id=1&date={day}"), counter),
        "GET /api/v1/schedule": timed(lambda: client.get(f"/api/v1/schedule?site_id=1&date={day}", headers=api), counter),
    }


def measure_booking(app, counter: QueryCounter, token: str) -> dict[str, dict[str, float]]:
    client = app.test_client()
    api = {"Authorization": f"Bearer {token}"}
    patients = iter(range(PATIENTS - 200, PATIENTS))

    def body() -> dict[str, Any]:
        return {"patient_id": next(patients), "protocol_code": "natalizumab-ms", "start_date": "2027-03-15",
                "site_id": 2, "preferred_time": "09:00", "horizon_days": 730}

    return {
        "preview 2-year natalizumab": timed(lambda: client.post("/api/v1/series/preview", json=body(), headers=api), counter),
        "preview + book 2-year natalizumab": timed(lambda: client.post("/api/v1/series", json=body(), headers=api), counter),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="clinic-bench-"))
    url = args.database or f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = make_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        dialect = db.engine.dialect.name
    build_clinic(app)
    with app.app_context():
        from clinic.auth.services import find_user, issue_token

        token = issue_token(find_user("bench"))
        db.session.commit()
        counter = QueryCounter(db.engine)
    lines = [f"# Benchmarks ({dialect}, {time.strftime('%Y-%m-%d %H:%M')})", "",
             "Server time through the WSGI app (Flask test client, no network), 30 requests each.", "",
             "| appointments | request | p50 ms | p95 ms | queries |", "|---:|---|---:|---:|---:|"]
    for size in sizes:
        started = time.perf_counter()
        have = grow_to(app, size)
        print(f"grew to {have} appointments in {time.perf_counter() - started:.1f} s", flush=True)
        with app.app_context():
            results = measure_pages(app, counter, token)
        for name, r in results.items():
            line = f"| {have:,} | {name} | {r['p50']:.1f} | {r['p95']:.1f} | {r['queries']:.0f} |"
            print(line, flush=True)
            lines.append(line)
    with app.app_context():
        booking = measure_booking(app, counter, token)
    lines += ["", "| busy clinic | request | p50 ms | p95 ms | queries |", "|---|---|---:|---:|---:|"]
    for name, r in booking.items():
        line = f"| {have:,} appts | {name} | {r['p50']:.1f} | {r['p95']:.1f} | {r['queries']:.0f} |"
        print(line, flush=True)
        lines.append(line)
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
