"""``/metrics`` for Prometheus, behind a bearer token."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from kb.extensions import csrf
from kb.ops.metrics import metrics_token, render_metrics

bp = Blueprint("ops", __name__)
csrf.exempt(bp)


@bp.get("/metrics")
def metrics():
    """Prometheus text format for a scraper holding KB_METRICS_TOKEN; 404 while no token is configured."""
    token = metrics_token()
    if not token:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return Response("A valid bearer token is required.\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'},
                        mimetype="text/plain")
    return Response(render_metrics(current_app._get_current_object()), mimetype=CONTENT_TYPE_LATEST)
