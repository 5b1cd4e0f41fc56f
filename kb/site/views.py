"""Pages that belong to the site as a whole: home, health check, robots.txt and the sitemap."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from sqlalchemy import text

from kb.extensions import db
from kb.hooks import health_checks, home_sections, sitemap_sources
from kb.proxy import absolute_url

bp = Blueprint("site", __name__)


@bp.route("/")
def home():
    """Search box first, then whatever each feature contributes."""
    sections = [(section.template, section.context(current_user)) for section in home_sections(current_app)]
    return render_template("site/home.html", sections=sections)


@bp.route("/healthz")
def healthz():
    """JSON health report for load balancers: 200 when every part works, 503 otherwise."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means unhealthy, whatever its type
        db.session.rollback()
        checks["database"] = f"error: {exc.__class__.__name__}"
    for name, check in health_checks(current_app).items():
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {exc.__class__.__name__}: {exc}"[:200]
    healthy = all(value == "ok" for value in checks.values())
    return jsonify({"status": "ok" if healthy else "error", "checks": checks}), (200 if healthy else 503)


@bp.route("/favicon.ico")
def favicon():
    """Browsers and feed readers ask for /favicon.ico whatever the page links; give them the site's icon."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml",
                               max_age=int(current_app.config["FAVICON_MAX_AGE"]))


@bp.route("/robots.txt")
def robots():
    """Let crawlers read public pages but not accounts, staff or case pages."""
    lines = [
        "User-agent: *",
        "Disallow: /account",
        "Disallow: /admin/",
        "Disallow: /staff/",
        "Disallow: /cases/",
        "Disallow: /moderation/",
        "Disallow: /api/",
        "Disallow: /search",
        f"Sitemap: {url_for('site.sitemap', _external=True)}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.route("/sitemap.xml")
def sitemap():
    """Public pages only: each feature yields the URLs an anonymous visitor may read."""
    entries = []
    for source in sitemap_sources(current_app):
        for url, modified in source():
            entries.append((absolute_url(url), modified))
    xml = render_template("site/sitemap.xml", entries=entries)
    return Response(xml, mimetype="application/xml")
