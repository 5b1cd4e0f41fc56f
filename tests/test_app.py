"""The application shell: configuration, error pages, security headers, health check."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kb import create_app
from kb.config import ConfigError
from kb.security import is_safe_next


def test_production_without_secret_key_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("KB_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="KB_SECRET_KEY"):
        create_app({"ENV": "production"}, instance_path=str(tmp_path))


def test_cli_reports_missing_secret_key_clearly(tmp_path, monkeypatch):
    from kb.cli import main

    monkeypatch.delenv("KB_SECRET_KEY", raising=False)
    monkeypatch.delenv("KB_ENV", raising=False)
    monkeypatch.setenv("KB_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code != 0
    assert "KB_SECRET_KEY is not set" in result.output


def test_development_generates_and_keeps_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("KB_SECRET_KEY", raising=False)
    first = create_app({"ENV": "development"}, instance_path=str(tmp_path))
    second = create_app({"ENV": "development"}, instance_path=str(tmp_path))
    assert first.config["SECRET_KEY"] and first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


def test_environment_variables_override_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_SITE_NAME", "Harbor Help")
    monkeypatch.setenv("KB_RATELIMIT_ENABLED", "false")
    app = create_app({"ENV": "testing", "SECRET_KEY": "x"}, instance_path=str(tmp_path))
    assert app.config["SITE_NAME"] == "Harbor Help"
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


@pytest.mark.parametrize(
    "target, safe",
    [
        ("/forums/", True),
        ("/articles/x?y=1", True),
        ("//evil.example/", False),
        ("https://evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
        ("", False),
        (None, False),
        ("/\x00x", False),
    ],
)
def test_next_targets(target, safe):
    assert is_safe_next(target) is safe


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_lax(client, customer):
    from tests.conftest import login

    response = login(client, customer)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("path, code", [("/no-such-page", 404), ("/healthz", 405)])
def test_error_pages_keep_navigation(client, path, code):
    response = client.get(path) if code == 404 else client.post(path)
    assert response.status_code == code
    page = response.get_data(as_text=True)
    assert 'aria-label="Main"' in page and "Search" in page


def test_error_page_for_oversized_request(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/login", data={"email": "a@b.example", "password": "x" * 5000})
    assert response.status_code == 413
    assert "larger than the site accepts" in response.get_data(as_text=True)


def test_unexpected_error_gives_friendly_500(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("kaput")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert "kaput" not in response.get_data(as_text=True)


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"


def test_healthz_fails_when_database_is_unreachable(tmp_path):
    app = create_app(
        {"ENV": "testing", "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/x.db"},
        instance_path=str(tmp_path / "inst"),
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "error"


def test_robots_and_sitemap(client):
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Disallow: /admin/" in robots and "Sitemap:" in robots
    sitemap = client.get("/sitemap.xml")
    assert sitemap.status_code == 200 and sitemap.mimetype == "application/xml"


@pytest.mark.parametrize("path", ["/threads/2147483648", "/cases/99999999999", "/posts/4294967296/edit"])
def test_ids_beyond_the_database_integer_range_are_404(client, staff, path):
    from tests.conftest import login

    login(client, staff)
    assert client.get(path).status_code == 404
