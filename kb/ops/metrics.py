"""Prometheus metrics: requests and latency per endpoint, plus the gauges features register.

Request counters live in this process, or, when ``PROMETHEUS_MULTIPROC_DIR`` is set (gunicorn with
several workers), in that shared folder so one scrape adds up every worker. Gauges (open cases,
backlogs) are counted from the database at scrape time through ``kb.hooks.register_metric``, so
they are right whichever worker answers.
"""

from __future__ import annotations

import os
import time

from flask import Flask, current_app, g, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from kb.hooks import metrics as registered_metrics

_process = CollectorRegistry()
REQUESTS = Counter(
    "kb_http_requests", "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"], registry=_process,
)
LATENCY = Histogram(
    "kb_http_request_duration_seconds", "Time to answer a request, by endpoint.", ["endpoint"], registry=_process,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class _RegisteredGauges:
    """Reads each gauge a feature registered, at scrape time."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        for name, (documentation, labels, collect) in registered_metrics(self.app).items():
            family = GaugeMetricFamily(name, documentation, labels=list(labels) or None)
            try:
                values = collect()
            except Exception:  # one broken gauge must not hide the others
                self.app.logger.exception("metrics: could not collect %s", name)
                continue
            if labels:
                for label_values, value in sorted(values.items()):
                    family.add_metric([str(v) for v in label_values], float(value))
            else:
                family.add_metric([], float(values))
            yield family


def render_metrics(app: Flask) -> bytes:
    """The Prometheus text page: this process's (or every worker's) counters and the registered gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(_RegisteredGauges(app))
    return generate_latest(registry)


def register_request_metrics(app: Flask) -> None:
    # The labelled children, looked up once each: labels() takes a lock and builds a key every call.
    counters: dict[tuple[str, str, int], object] = {}
    timers: dict[str, object] = {}

    @app.before_request
    def _start_clock():
        g.kb_request_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = g.pop("kb_request_started", None)
        # Unknown URLs share one label, so a scanner cannot create a time series per path it tries.
        endpoint = request.endpoint or "unmatched"
        key = (endpoint, request.method, response.status_code)
        counter = counters.get(key)
        if counter is None:
            counter = counters[key] = REQUESTS.labels(endpoint, request.method, str(response.status_code))
        counter.inc()
        if started is not None:
            timer = timers.get(endpoint)
            if timer is None:
                timer = timers[endpoint] = LATENCY.labels(endpoint)
            timer.observe(time.perf_counter() - started)
        return response


def metrics_token() -> str:
    return current_app.config.get("METRICS_TOKEN") or ""
