"""Support Center: the application factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from kb import config as kb_config
from kb.extensions import csrf, db, limiter, login_manager, migrate
from kb.ops.logs import configure_logging
from kb.ops.sqlite import configure_sqlite
from kb.proxy import SiteFlask, register_proxy

PACKAGE = Path(__file__).resolve().parent
# templates/, static/, migrations/ and content/: beside the package in a checkout, inside it in a wheel.
ROOT = PACKAGE / "_bundle" if (PACKAGE / "_bundle").is_dir() else PACKAGE.parent


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the site: defaults, then instance config, then KB_* environment, then test overrides."""
    if instance_path is None and os.environ.get("KB_INSTANCE_PATH"):
        instance_path = os.environ["KB_INSTANCE_PATH"]
    app = SiteFlask(
        __name__,
        instance_relative_config=True,
        instance_path=instance_path,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    kb_config.apply_defaults(app.config)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("KB")
    if test_config is not None:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    kb_config.finalize(app)
    configure_logging(app)
    register_proxy(app)

    db.init_app(app)
    configure_sqlite(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from kb import accounts, articles, cases, forums, images, mail, ops, page_cache, search, site, uploads
    from kb.errors import register_error_handlers
    from kb.security import register_security

    from kb.templating import register_filters

    register_security(app)
    register_error_handlers(app)
    register_filters(app)
    from kb.cli import init_command
    from kb.worker import worker_command

    app.cli.add_command(init_command)
    app.cli.add_command(worker_command)
    for feature in (mail, search, accounts, uploads, images, articles, forums, cases, site, ops):
        feature.init_app(app)
    page_cache.init_app(app)  # last: see kb.page_cache.init_app
    return app
