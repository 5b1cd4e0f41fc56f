"""``/metrics``: a bearer token, request counts and latency, case and backlog gauges; several workers add up."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from kb.cases.actions import open_case
from kb.extensions import db
from kb.hooks import register_metric
from tests.conftest import _free_port

TOKEN = "s3cret-scrape-token"


def _scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})


def _value(text: str, name: str, **labels) -> float:
    for line in text.splitlines():
        if line.startswith((name + "{", name + " ")):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(found.get(k) == str(v) for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_is_a_404_while_no_token_is_configured(client):
    assert client.get("/metrics").status_code == 404
    assert _scrape(client, "anything").status_code == 404


def test_metrics_needs_the_bearer_token(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 401
    assert _scrape(client, "wrong").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    response = _scrape(client)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"


def test_requests_are_counted_by_endpoint_and_status_with_latency(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    before = _scrape(client).get_data(as_text=True)
    for _ in range(3):
        client.get("/robots.txt")
    client.get("/no-such-page-at-all")
    text = _scrape(client).get_data(as_text=True)
    delta = _value(text, "kb_http_requests_total", endpoint="site.robots", status=200) - _value(
        before, "kb_http_requests_total", endpoint="site.robots", status=200)
    assert delta == 3
    assert _value(text, "kb_http_requests_total", endpoint="unmatched", status=404) >= 1
    assert "/no-such-page-at-all" not in text
    assert _value(text, "kb_http_request_duration_seconds_count", endpoint="site.robots") >= 3


def test_open_cases_by_severity_and_sla_state_and_the_search_backlog(app, client, customer):
    app.config["METRICS_TOKEN"] = TOKEN
    from kb.types import utcnow

    open_case(customer, title="Site down", description="Nothing replicates.", severity=1,
              now=utcnow() - timedelta(days=3))
    open_case(customer, title="Question", description="How do I?", severity=4)
    open_case(customer, title="Another question", description="And this?", severity=4)
    db.session.commit()
    text = _scrape(client).get_data(as_text=True)
    assert _value(text, "kb_cases_open", severity=1, sla="breached") == 1
    assert _value(text, "kb_cases_open", severity=4, sla="on_track") == 2
    assert "kb_search_outbox_pending" in text


def test_a_feature_adds_a_gauge_with_one_line_and_a_broken_one_hides_nothing(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    register_metric(app, "kb_mail_outbox_pending", "Mail waiting to be sent.", lambda: 7)
    register_metric(app, "kb_broken", "Raises.", lambda: 1 / 0)
    text = _scrape(client).get_data(as_text=True)
    assert _value(text, "kb_mail_outbox_pending") == 7
    assert "kb_cases_open" in text and "kb_broken " not in text


@pytest.mark.slow
def test_several_gunicorn_workers_add_up_in_one_scrape(app, tmp_path):
    """Each worker counts its own requests; PROMETHEUS_MULTIPROC_DIR makes any worker's answer the total."""
    db.engine.dispose()
    port, metrics_dir = _free_port(), tmp_path / "prom"
    metrics_dir.mkdir()
    env = {**os.environ, "KB_ENV": "testing", "KB_SECRET_KEY": "t", "KB_METRICS_TOKEN": TOKEN,
           "KB_DATABASE_URL": app.config["DATABASE_URL"], "KB_INDEX_DIR": str(tmp_path / "gidx"),
           "KB_INSTANCE_PATH": str(tmp_path / "ginst"), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-c", "python:kb.ops.gunicorn_conf", "--workers", "3", "--bind", f"127.0.0.1:{port}",
         "kb:create_app()"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/robots.txt", timeout=5).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.5)
        def robots_count() -> float:
            request = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            text = urllib.request.urlopen(request, timeout=30).read().decode()
            return _value(text, "kb_http_requests_total", endpoint="site.robots", status=200)

        before = robots_count()  # the start-up polls count too, however many got through
        for _ in range(30):
            urllib.request.urlopen(base + "/robots.txt", timeout=30).read()
        assert {robots_count() - before for _ in range(6)} == {30}  # whichever worker answers the scrape
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_mail_outbox_figures(app, client):
    from kb.mail import send_mail

    app.config["METRICS_TOKEN"] = TOKEN
    send_mail(["a@example.com"], "Waiting", "x")
    db.session.commit()
    text = _scrape(client).get_data(as_text=True)
    assert _value(text, "kb_mail_outbox_waiting") == 1
    assert _value(text, "kb_mail_outbox_failed") == 0
    assert _value(text, "kb_mail_outbox_oldest_seconds") >= 0
