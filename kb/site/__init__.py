"""Site-wide pages. This package sits at the top: it only reads what features registered."""

from __future__ import annotations

from flask import Flask, current_app
from flask_login import current_user

from markupsafe import Markup

from kb import page_cache
from kb.hooks import nav_links, register_stylesheet, render_slot, stylesheets
from kb.site.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    page_cache.register_page(app, "site.home", "articles", "forums")
    page_cache.register_page(app, "site.sitemap", "articles", "forums")
    register_stylesheet(app, "site")
    register_stylesheet(app, "pygments")  # code highlighting for every rendered Markdown text

    @app.context_processor
    def site_context():
        return {
            "site_name": current_app.config["SITE_NAME"],
            "nav_links": nav_links(current_app, current_user),
            "stylesheets": stylesheets(current_app),
            "slot": lambda name, **kwargs: Markup(render_slot(current_app, name, **kwargs)),
        }
