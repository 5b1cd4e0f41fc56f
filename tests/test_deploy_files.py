"""deploy/: the nginx site, systemd units and example environment stay in step with the site's settings."""

from __future__ import annotations

import re
from pathlib import Path

from kb.config import DEFAULTS

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = {"m": 1024 * 1024, "k": 1024, "g": 1024 ** 3}


def test_nginx_accepts_exactly_the_largest_request_the_site_accepts():
    conf = (DEPLOY / "nginx-kb.conf").read_text()
    number, unit = re.search(r"^\s*client_max_body_size\s+(\d+)([kmg]?);", conf, re.MULTILINE).groups()
    assert int(number) * UNITS.get(unit, 1) == DEFAULTS["MAX_CONTENT_LENGTH"]


def test_nginx_upload_pages_accept_the_attachment_limits(app):
    from kb.cases.attachments import request_limit

    conf = (DEPLOY / "nginx-kb.conf").read_text()
    block = re.search(r"location ~ \^/\(cases/new\|cases/\[0-9\]\+/comment\|api/v1/cases/\[0-9\]\+/attachments\)\$ \{"
                      r"[^}]*client_max_body_size\s+(\d+)([kmg]?);", conf)
    assert block, "the upload location is missing"
    number, unit = block.groups()
    with app.test_request_context():
        assert int(number) * UNITS.get(unit, 1) == request_limit()


def test_nginx_replaces_forwarded_headers_and_caches_static_files():
    conf = (DEPLOY / "nginx-kb.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # never the client's own list
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert re.search(r"location /static/ \{[^}]*expires 1y;", conf)


def test_every_setting_in_the_example_environment_exists(app):
    example = (DEPLOY / "kb.env.example").read_text()
    names = re.findall(r"^#?KB_([A-Z_]+)=", example, re.MULTILINE)
    assert "SECRET_KEY" in names and "SITE_URL" in names and "PROXY_HOPS" in names
    read_at_start = {"INSTANCE_PATH"}  # read by create_app itself, before the config exists
    unknown = [f"KB_{name}" for name in names if name not in app.config and name not in read_at_start]
    assert unknown == []


def test_units_run_the_installed_package_with_the_environment_file():
    web = (DEPLOY / "kb-web.service").read_text()
    worker = (DEPLOY / "kb-worker.service").read_text()
    for unit in (web, worker):
        assert "EnvironmentFile=/etc/kb/kb.env" in unit
        assert "ExecStart=/opt/kb/venv/bin/" in unit
    assert "-c python:kb.ops.gunicorn_conf" in web and "PROMETHEUS_MULTIPROC_DIR=/run/kb-metrics" in web
    assert "RuntimeDirectory=kb-metrics" in web
    assert "ExecStart=/opt/kb/venv/bin/kb worker" in worker
    import kb.ops.gunicorn_conf as conf

    assert conf.wsgi_app == "kb:create_app()"
