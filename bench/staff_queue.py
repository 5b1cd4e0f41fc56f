"""Staff queue page time with 10,000 open cases, on SQLite and (given a URL) PostgreSQL.

Builds a schema with 200 organisations (both plans, several timezones) and 10,000 open cases in
every state the queue orders (unanswered, answered and waiting on support, waiting on the
customer, some escalated, some overdue), signs a staff member in and requests queue pages through
the app in-process: page 1, a later page, and a filtered page, alternating. Prints p50 and p95 per
database. Target: p95 <= 300 ms on each.
Usage: python bench/staff_queue.py [postgresql+psycopg://...]   (the PostgreSQL database's tables are replaced)
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file is named like the standard library's queue module: keep its folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

CASES = 10_000
ORGS = 200
REQUESTS = 60
TARGET_MS = 300.0
ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
PATHS = ["/staff/queue", "/staff/queue?page=40", "/staff/queue?severity=1&plan=premium"]


def seed(db, now) -> int:
    """Insert organisations, users and cases in bulk; returns the staff user's id."""
    from sqlalchemy import insert

    from kb.accounts.models import Organization, Plan, Role, User
    from kb.cases.models import Case, CaseStatus

    rng = random.Random(7)
    db.session.execute(insert(Organization), [
        {"id": i + 1, "name": f"Org {i}", "plan": Plan.PREMIUM if i % 3 == 0 else Plan.STANDARD,
         "timezone": ZONES[i % len(ZONES)], "holidays": [], "created_at": now} for i in range(ORGS)])
    users = [{"id": 1, "email": "staff@bench.example", "display_name": "Bench Staff", "password_hash": "x",
              "role": Role.STAFF, "timezone": "Europe/London", "disabled": False, "created_at": now}]
    users += [{"id": i + 2, "email": f"c{i}@bench.example", "display_name": f"Customer {i}", "password_hash": "x",
               "role": Role.CUSTOMER, "organization_id": i + 1, "timezone": "UTC", "disabled": False,
               "created_at": now} for i in range(ORGS)]
    db.session.execute(insert(User), users)
    rows = []
    for n in range(CASES):
        org = n % ORGS
        created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 20))
        answered = rng.random() < 0.6
        status = CaseStatus.WAITING if answered and rng.random() < 0.3 else (
            CaseStatus.OPEN if answered else CaseStatus.NEW)
        rows.append({
            "id": n + 1, "number": 10_000 + n + 1, "title": f"Bench case {n}", "description": "d",
            "description_html": "<p>d</p>", "severity": rng.randint(1, 4), "status": status,
            "organization_id": org + 1, "opener_id": org + 2, "created_at": created, "updated_at": created,
            "response_due_at": created + timedelta(hours=rng.randint(1, 120)),
            "first_response_at": created + timedelta(minutes=30) if answered else None,
            "update_clock_started_at": created + timedelta(minutes=30) if status is CaseStatus.OPEN else None,
            "next_update_due_at": created + timedelta(hours=rng.randint(1, 72)) if status is CaseStatus.OPEN else None,
            "escalated_at": created if rng.random() < 0.05 else None,
            "assignee_id": 1 if rng.random() < 0.3 else None,
        })
    db.session.execute(insert(Case), rows)
    db.session.commit()
    return 1


def measure(url: str, label: str) -> float:
    from flask_login import FlaskLoginClient

    from kb import create_app
    from kb.accounts.models import User
    from kb.extensions import db
    from kb.types import utcnow

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": url or f"sqlite:///{tmp}/q.db",
                          "INDEX_DIR": f"{tmp}/index", "RATELIMIT_ENABLED": False, "MAIL_SERVER": ""},
                         instance_path=f"{tmp}/instance")
        app.test_client_class = FlaskLoginClient
        with app.app_context():
            db.drop_all()
            db.create_all()
            print(f"{label}: seeding {CASES} open cases in {ORGS} organisations ...", flush=True)
            staff_id = seed(db, utcnow())
            staff = db.session.get(User, staff_id)
            client = app.test_client(user=staff)
            for path in PATHS:  # warm up caches and check every page answers
                response = client.get(path)
                assert response.status_code == 200 and b"Bench case" in response.data, path
            times = []
            for i in range(REQUESTS):
                started = time.perf_counter()
                client.get(PATHS[i % len(PATHS)])
                times.append((time.perf_counter() - started) * 1000)
                if (i + 1) % 20 == 0:
                    print(f"  {i + 1}/{REQUESTS} requests", flush=True)
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{label}: queue page p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms "
          f"over {REQUESTS} requests (target p95 <= {TARGET_MS:.0f} ms): {'OK' if p95 <= TARGET_MS else 'SLOW'}")
    return p95


def main() -> None:
    results = [measure("", "SQLite")]
    if len(sys.argv) > 1:
        results.append(measure(sys.argv[1], "PostgreSQL"))
    else:
        print("PostgreSQL: skipped (pass a postgresql+psycopg:// URL to measure it)")
    sys.exit(0 if all(p95 <= TARGET_MS for p95 in results) else 1)


if __name__ == "__main__":
    main()
