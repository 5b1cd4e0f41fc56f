"""Static file URLs carry a fingerprint (``/static/css/site.css?v=3f2a9c1e``).

Every ``url_for('static', ...)`` gets the ``v`` (templates need no change). A request whose ``v``
is the file's current fingerprint is answered with a year of ``Cache-Control: public, immutable``
(``KB_STATIC_CACHE_SECONDS``), by the site itself or by nginx (deploy/nginx-kb.conf): a changed file
gets a new ``v`` and so a new URL, and nobody keeps an old stylesheet after an upgrade. Without the
right ``v`` the file is revalidated as usual (``no-cache`` with an ETag).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request

_fingerprints: dict[tuple[str, int], str] = {}


def fingerprint(path: Path) -> str | None:
    """A short content hash, computed once per file version (keyed by path and modification time)."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    key = (str(path), mtime)
    if key not in _fingerprints:
        _fingerprints[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    return _fingerprints[key]


def static_file(app: Flask, filename: str) -> Path | None:
    """The file under the static folder a URL names, None outside it; the path checks are done once per name."""
    known = app.extensions.setdefault("kb_static_paths", {})
    if filename not in known:
        static = Path(app.static_folder).resolve()
        target = (static / filename).resolve()
        known[filename] = target if static in target.parents else None
    return known[filename]


def register_static_fingerprints(app: Flask) -> None:
    @app.url_defaults
    def _add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            target = static_file(app, values["filename"])
            version = fingerprint(target) if target is not None else None
            if version:
                values["v"] = version


def register_static_caching(app: Flask) -> None:
    @app.after_request
    def _cache_versioned(response):
        if request.endpoint == "static" and response.status_code in (200, 304) and "v" in request.args:
            target = static_file(app, (request.view_args or {}).get("filename", ""))
            if target is not None and request.args["v"] == fingerprint(target):
                response.headers["Cache-Control"] = f"public, max-age={int(app.config['STATIC_CACHE_SECONDS'])}, immutable"
        return response
