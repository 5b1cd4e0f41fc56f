"""Mail-in benchmark: the worst time of each bounded step of `kb mail-in` on its hostile inputs.

Each message of bench/support/mailin_inputs.py (the shapes that once took seconds or crashed)
goes through kb.cases.mailin.process against a throwaway SQLite instance, ROUNDS times; the
table shows each message's worst time and outcome, then the worst per step (structure, headers,
html, text). Target: under 0.5 s each on 2 cores. Usage: python bench/mailin.py [rounds]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support.mailin_inputs import hostile_messages

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
TARGET = 0.5  # seconds, per step


def main() -> int:
    from kb import create_app
    from kb.accounts.users import create_organization, create_user
    from kb.cases import actions, mailin, notify
    from kb.extensions import db

    with tempfile.TemporaryDirectory() as workdir:
        app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{workdir}/bench.db",
                          "INDEX_DIR": f"{workdir}/index", "MAIL_SERVER": ""}, instance_path=f"{workdir}/instance")
        with app.app_context():
            db.create_all()
            org = create_organization("Bench Corp")
            user = create_user("alice@bench.example", "correct horse battery", organization=org)
            case = actions.open_case(user, title="Bench case", description="d", severity=3)
            db.session.commit()
            inputs = hostile_messages(user.email, notify.reply_address(case, user))
            worst: dict[str, tuple[float, str]] = {}
            print(f"{'message':<48} {'step':<10} {'worst s':>8}  outcome")
            for hostile in inputs:
                seconds, outcome = 0.0, ""
                for _ in range(ROUNDS):
                    start = time.perf_counter()
                    try:
                        mailin.process(hostile.raw)
                        outcome = "added"
                    except mailin.MailRejected as exc:
                        outcome = f"refused {exc.code}: {exc.reason[:60]}"
                    seconds = max(seconds, time.perf_counter() - start)
                    db.session.rollback()
                print(f"{hostile.name:<48} {hostile.step:<10} {seconds:8.3f}  {outcome}")
                if seconds >= worst.get(hostile.step, (0.0, ""))[0]:
                    worst[hostile.step] = (seconds, hostile.name)
    print(f"\nworst per step (target < {TARGET} s, {ROUNDS} rounds each):")
    for step, (seconds, name) in worst.items():
        print(f"  {step:<10} {seconds:6.3f} s  {'ok' if seconds < TARGET else 'OVER TARGET'}  ({name})")
    return 0 if all(seconds < TARGET for seconds, _ in worst.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
