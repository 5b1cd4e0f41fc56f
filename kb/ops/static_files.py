"""Static file URLs carry a fingerprint (``/static/css/site.css?v=3f2a9c1e``).

nginx (deploy/nginx-kb.conf) serves ``/static/`` with a one-year cache: a changed file gets a new
``v`` and so a new URL, and nobody keeps an old stylesheet after an upgrade.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask

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


def register_static_fingerprints(app: Flask) -> None:
    @app.url_defaults
    def _add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            static = Path(app.static_folder)
            target = (static / values["filename"]).resolve()
            if static.resolve() in target.parents:
                version = fingerprint(target)
                if version:
                    values["v"] = version
