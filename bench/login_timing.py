"""Login timing: a wrong password for a real account against any password for an unknown address.

Target: the two take about the same time (the unknown address hashes a dummy password), so the
answer's timing does not tell an outsider which addresses have accounts. In-process, SQLite.
Usage: python bench/login_timing.py [attempts]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ATTEMPTS = int(sys.argv[1]) if len(sys.argv) > 1 else 15


def main() -> None:
    from kb import create_app
    from kb.accounts.users import create_user
    from kb.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
                          "INDEX_DIR": f"{tmp}/index", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False},
                         instance_path=f"{tmp}/instance")
        with app.app_context():
            db.create_all()
            create_user("real@example.com", "the right passphrase")
            db.session.commit()
        client = app.test_client()
        timings: dict[str, list[float]] = {"real address, wrong password": [], "unknown address": []}
        for number in range(ATTEMPTS):
            for label, email in (("real address, wrong password", "real@example.com"),
                                 ("unknown address", f"nobody{number}@example.com")):
                start = time.perf_counter()
                client.post("/login", data={"email": email, "password": "not the password"})
                timings[label].append(time.perf_counter() - start)
        for label, values in timings.items():
            print(f"{label:32s} median {statistics.median(values) * 1000:7.1f} ms  "
                  f"min {min(values) * 1000:7.1f} ms  max {max(values) * 1000:7.1f} ms  ({len(values)} logins)")
        known, unknown = (statistics.median(v) for v in timings.values())
        print(f"unknown / real: {unknown / known:.2f} (target: about 1)")


if __name__ == "__main__":
    main()
