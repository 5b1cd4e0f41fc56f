"""Mail: a forum reply with 200 watchers next to one with none, and the worker's delivery rate.

The reply request only queues the watchers' mail as one row (no SMTP, no per-watcher work), so the
two should take about the same time; the worker then writes out one message per watcher and sends
over one SMTP connection per batch to a local aiosmtpd server.
Targets: the 200-watcher reply within 2x of the lone one (and well under a second); delivery at
least 50 messages a second on 2 cores.
Usage: python bench/mail.py [replies-per-thread] [messages]
"""

from __future__ import annotations

import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPLIES = int(sys.argv[1]) if len(sys.argv) > 1 else 15
MESSAGES = int(sys.argv[2]) if len(sys.argv) > 2 else 500
WATCHERS = 200
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def main() -> int:
    from aiosmtpd.controller import Controller
    from sqlalchemy import func, select

    from kb import create_app
    from kb.accounts.models import Role, User
    from kb.accounts.users import create_user
    from kb.extensions import db
    from kb.forums import threads
    from kb.forums.models import ForumCategory, Subscription, WatcherMailing
    from kb.forums.seed import init_step
    from kb.mail import deliver, send_template

    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    folder = tempfile.mkdtemp(prefix="kb-bench-mail-")
    app = create_app({
        "ENV": "testing", "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{folder}/kb.sqlite3",
        "INDEX_DIR": f"{folder}/index", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port,
    }, instance_path=f"{folder}/instance")
    with app.app_context():
        db.create_all()
        init_step()
        category = db.session.scalar(select(ForumCategory).order_by(ForumCategory.position))
        staff = create_user("staff@example.com", PASSWORD, display_name="Sam", role=Role.STAFF)
        author = create_user("author@example.com", PASSWORD, display_name="Ann", role=Role.CUSTOMER)
        db.session.commit()
        lonely = threads.create_thread(category, author, "Nobody watches this", "Body", [])
        watched = threads.create_thread(category, author, "Everybody watches this", "Body", [])
        db.session.commit()
        for number in range(WATCHERS - 1):  # the author watches too; watchers never sign in, so no real hash
            user = User(email=f"watcher{number}@example.com", display_name=f"Watcher {number}", role=Role.CUSTOMER,
                        password_hash="!")
            db.session.add(user)
            db.session.flush()
            db.session.add(Subscription(user_id=user.id, thread_id=watched.id))
        db.session.execute(Subscription.__table__.delete().where(Subscription.thread_id == lonely.id))
        db.session.commit()
        client = app.test_client()
        client.post("/login", data={"email": staff.email, "password": PASSWORD})
        timings: dict[str, list[float]] = {"none": [], "200": []}
        for _ in range(REPLIES):  # alternate so machine noise hits both
            for label, thread in (("none", lonely), ("200", watched)):
                started = time.perf_counter()
                response = client.post(f"/threads/{thread.id}/reply", data={"body": "Check the journal size."})
                timings[label].append(time.perf_counter() - started)
                assert response.status_code == 302, response.status_code
        mailings = db.session.scalar(select(func.count()).select_from(WatcherMailing))
        lone, busy = statistics.median(timings["none"]), statistics.median(timings["200"])
        print(f"reply, no watchers:   median {lone * 1000:.1f} ms over {REPLIES} replies")
        print(f"reply, {WATCHERS} watchers: median {busy * 1000:.1f} ms over {REPLIES} replies "
              f"({mailings} mailings queued, no SMTP in the request)")
        print(f"ratio {busy / lone:.2f} (target: at most 2, and under 1 s)")
        started = time.perf_counter()
        replies_mail = deliver()  # the replies' mail, so the rate below counts only fresh messages
        print(f"worker: the replies' mail written out per watcher and sent, {replies_mail.sent} messages in "
              f"{time.perf_counter() - started:.2f} s")
        before = sink.count
        for number in range(MESSAGES):
            send_template([f"reader{number}@example.com"], "password_reset", "Reset your password",
                          user_name="Sam", minutes=60, action_url="http://localhost/reset", action_label="Reset",
                          reason="Benchmark.", stop_text="")
        db.session.commit()
        started = time.perf_counter()
        report = deliver()
        elapsed = time.perf_counter() - started
        smtp.stop()
        rate = report.sent / elapsed
        print(f"worker delivery: {report.sent} messages in {elapsed:.2f} s = {rate:.0f} messages/s "
              f"({sink.count - before} received; target at least 50/s)")
    ok = busy / lone <= 2 and busy < 1 and rate >= 50 and report.sent == MESSAGES
    print("OK" if ok else "BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
