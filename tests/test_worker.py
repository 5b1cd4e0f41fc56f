"""`kb worker`: mail waits through a relay outage and is sent once; racing workers and sweeps on PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kb.cases.models import CaseEvent, EventKind
from kb.cases.sweep import sweep
from kb.extensions import db
from kb.forums.models import Draft, WatcherMailing
from kb.mail import MailStatus, OutboxMessage, deliver, send_mail
from kb.types import utcnow
from kb.worker import start_thread
from tests.cases.conftest import make_case, utc  # noqa: F401  (fixtures of the features whose work this runs)
from tests.conftest import POSTGRES_URL, _Collector, _free_port, login, start_smtp
from tests.forums.conftest import categories, make_thread  # noqa: F401

postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="row locks need PostgreSQL; on SQLite one worker is enough")


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_staff_reply_while_the_relay_hangs_then_delivered_once_it_is_back(app, client, runner, customer, staff,
                                                                           make_thread):
    # A relay that accepts the connection and never answers: any SMTP in the request would wait MAIL_TIMEOUT.
    port = _free_port()
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind(("127.0.0.1", port))
    silent.listen(16)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=3)
    thread = make_thread(customer)  # the author watches it
    login(client, staff)
    started = time.perf_counter()
    response = client.post(f"/threads/{thread.id}/reply", data={"body": "Restart the replication service."})
    elapsed = time.perf_counter() - started
    assert response.status_code == 302 and elapsed < 1.0, elapsed
    assert outbox() == []  # the watchers' mail waits as one mailing, for the worker to write out
    assert db.session.scalar(select(func.count()).select_from(WatcherMailing)) == 1

    app.config["MAIL_TIMEOUT"] = 0.5
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Mail: 0 sent, 1 waiting for a retry, 0 failed." in result.output
    assert "Could not reach the mail server" in result.output and "1 waiting" in result.output
    [waiting] = outbox()
    assert waiting.status is MailStatus.WAITING and waiting.recipient_list == [customer.email]
    assert db.session.scalar(select(func.count()).select_from(WatcherMailing)) == 0
    silent.close()

    collector = _Collector()
    controller = start_smtp(collector)
    app.config.update(MAIL_PORT=controller.port)
    try:
        assert deliver().handled == 0  # backing off: not due yet
        assert deliver(utcnow() + timedelta(minutes=2)).sent == 1
        assert deliver(utcnow() + timedelta(days=1)).handled == 0
        result = runner.invoke(args=["worker", "--once"])
    finally:
        controller.stop()
    assert "Done: 0 messages sent, 0 waiting, 0 failed in all." in result.output
    assert [m.envelope_rcpt for m in collector.messages] == [[customer.email]]
    assert "Restart the replication service." in collector.messages[0].get_body(("plain",)).get_content()


def test_worker_once_runs_the_sla_sweep_and_sends_its_alert(app, runner, customer, staff, make_case, mail_outbox):
    case = make_case(customer, title="Nobody answered", severity=2, created_at=utcnow() - timedelta(days=10))
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert f"SLA sweep: Case #{case.number}: overdue" in result.output
    assert "Mail: 1 sent, 0 waiting for a retry, 0 failed." in result.output
    assert list.__len__(mail_outbox) == 1 and "First response overdue" in str(mail_outbox[0]["Subject"])
    assert "SLA sweep" not in runner.invoke(args=["worker", "--once"]).output  # nothing new to say


def test_worker_prunes_expired_drafts_and_old_sent_mail(app, runner):
    app.config.update(FORUMS_DRAFT_MAX_AGE=3600, MAIL_SENT_KEEP_DAYS=14)
    db.session.add_all([Draft(token="old", path="/x", data={}, created_at=utcnow() - timedelta(hours=2)),
                        Draft(token="new", path="/x", data={})])
    send_mail(["a@example.com"], "Old", "x")
    db.session.commit()
    deliver()
    outbox()[0].sent_at = utcnow() - timedelta(days=15)
    db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert "Expired drafts: deleted 1 expired drafts" in result.output
    assert "Pruning sent mail: deleted 1 sent messages" in result.output
    assert [d.token for d in db.session.scalars(select(Draft))] == ["new"] and outbox() == []


def test_worker_thread_sends_mail_soon_after_the_commit(app):
    collector = _Collector()
    controller = start_smtp(collector)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, WORKER_POLL_INTERVAL=0.1)
    stop = start_thread(app)
    try:
        send_mail(["a@example.com"], "From the thread", "x")
        db.session.commit()
        deadline = time.monotonic() + 10
        while not collector.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        controller.stop()
    assert [str(m["Subject"]) for m in collector.messages] == ["From the thread"]


@postgres_only
@pytest.mark.slow
def test_two_workers_send_each_message_once(app):
    collector = _Collector()
    controller = start_smtp(collector)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_BATCH_SIZE=5)
    for number in range(60):
        send_mail([f"user{number}@example.com"], f"Message {number}", "x")
    db.session.commit()
    start = threading.Barrier(2)
    reports = []

    def worker():
        with app.app_context():  # its own session and database connection
            start.wait()
            reports.append(deliver())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        controller.stop()
    subjects = sorted(str(m["Subject"]) for m in collector.messages)
    assert subjects == sorted(f"Message {n}" for n in range(60))  # every message, none twice
    assert sum(report.sent for report in reports) == 60
    assert all(row.status is MailStatus.SENT for row in outbox())


@postgres_only
def test_two_racing_sweeps_record_and_alert_once(app, customer, staff, make_case):
    case = make_case(customer, title="Raced", severity=2, created_at=utc(2026, 1, 5, 9, 0))
    now = utc(2026, 1, 5, 15, 30)  # at risk
    second: dict = {}

    def other_host():
        with app.app_context():
            second["alerts"] = sweep(now)[1]
            db.session.commit()
            db.session.remove()

    first_alerts = sweep(now)[1]  # this sweep's transaction is still open
    assert [a.case.number for a in first_alerts] == [case.number]
    racer = threading.Thread(target=other_host)
    racer.start()
    racer.join(1.0)
    assert racer.is_alive()  # it waits on the first sweep's row lock instead of reading a stale state
    db.session.commit()
    racer.join(30)
    assert second["alerts"] == []
    events = db.session.scalar(select(func.count()).select_from(CaseEvent)
                               .where(CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.SLA))
    alerts = [row for row in outbox() if "at risk" in row.subject]
    assert events == 1 and len(alerts) == 1
