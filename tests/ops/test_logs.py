"""Request ids and JSON log lines."""

from __future__ import annotations

import io
import json
import logging

import pytest

from kb import create_app
from kb.config import ConfigError
from kb.ops.logs import JsonFormatter, RequestIdFilter


def test_every_answer_carries_a_fresh_request_id(client):
    first = client.get("/robots.txt").headers["X-Request-ID"]
    second = client.get("/robots.txt").headers["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_clients_request_id_is_ignored_unless_a_proxy_is_trusted(app, client):
    assert client.get("/", headers={"X-Request-ID": "chosen-by-client"}).headers["X-Request-ID"] != "chosen-by-client"


@pytest.mark.parametrize("given, kept", [("req-42.abc", True), ("x" * 129, False), ("bad id;drop", False)])
def test_behind_a_trusted_proxy_its_request_id_is_kept_when_sane(app_config, tmp_path, given, kept):
    app_config["PROXY_HOPS"] = 1
    app = create_app(app_config, instance_path=str(tmp_path / "i"))
    answered = app.test_client().get("/robots.txt", headers={"X-Request-ID": given}).headers["X-Request-ID"]
    assert (answered == given) is kept


def test_json_log_lines_carry_time_level_logger_message_and_the_request_id(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    app.logger.addHandler(handler)
    try:
        @app.get("/_log-something")
        def _log_something():
            app.logger.warning("disk %s is nearly full", "/var/lib/kb")
            return "ok"

        response = app.test_client().get("/_log-something")
    finally:
        app.logger.removeHandler(handler)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "disk /var/lib/kb is nearly full"
    assert line["level"] == "WARNING" and line["logger"] == app.logger.name
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["time"].endswith("+00:00")


def test_kb_log_format_json_puts_one_json_object_on_each_line(app_config, tmp_path):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        app_config["LOG_FORMAT"] = "json"
        app = create_app(app_config, instance_path=str(tmp_path / "j"))
        (handler,) = logging.getLogger().handlers
        assert isinstance(handler.formatter, JsonFormatter)
        record = logging.LogRecord("kb", logging.ERROR, __file__, 1, "boom", None, None)
        handler.filter(record)
        assert json.loads(handler.format(record))["message"] == "boom"
        assert app.logger.handlers == []
    finally:
        root.handlers = saved[0]
        root.setLevel(saved[1])


def test_an_unknown_log_format_is_refused(app_config, tmp_path):
    app_config["LOG_FORMAT"] = "xml"
    with pytest.raises(ConfigError, match="KB_LOG_FORMAT must be text or json"):
        create_app(app_config, instance_path=str(tmp_path / "x"))
