"""Log lines and request ids: ``KB_LOG_FORMAT=json`` writes one JSON object per line.

Every request gets an id, answered as ``X-Request-ID`` and put on each log line written while the
request runs, so one visitor's trouble can be followed through the log. Behind trusted proxies
(``KB_PROXY_HOPS`` > 0) the proxy's own ``X-Request-ID`` is kept, so its log and ours agree.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime

from flask import Flask, current_app, g, has_request_context, request
from flask.logging import default_handler

from kb.config import ConfigError

LOG_FORMATS = ("text", "json")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]+")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(app: Flask) -> None:
    """Text lines (the default) or JSON lines on stderr, each with the request id."""
    log_format = str(app.config["LOG_FORMAT"]).lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"KB_LOG_FORMAT must be text or json, not {app.config['LOG_FORMAT']!r}.")
    if log_format == "text":
        if not app.debug and not app.testing:
            logging.basicConfig(level=logging.INFO)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    app.logger.removeHandler(default_handler)


def request_id() -> str:
    """The proxy's id when the proxy is trusted and the id looks sane, else a new one."""
    config = current_app.config
    given = request.headers.get("X-Request-ID", "")
    if config["PROXY_HOPS"] and len(given) <= int(config["REQUEST_ID_MAX_LENGTH"]) and _REQUEST_ID.fullmatch(given):
        return given
    return os.urandom(16).hex()  # as long as a uuid4's hex, without building a UUID


def register_request_id(app: Flask) -> None:
    @app.before_request
    def _assign_request_id():
        g.request_id = request_id()

    @app.after_request
    def _answer_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response
