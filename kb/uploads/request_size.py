"""Larger request bodies for the pages that take files; every other page keeps KB_MAX_CONTENT_LENGTH."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request

_ROUTES = "kb_upload_routes"


def accept_uploads(app: Flask, endpoint: str, limit: Callable[[], int]) -> None:
    """Let ``endpoint`` take a request body of up to ``limit()`` bytes (its files are spooled to disk)."""
    app.extensions.setdefault(_ROUTES, {})[endpoint] = limit


def install(app: Flask) -> None:
    """Set the cap before anything reads the body: first of all before-request functions (CSRF reads the form)."""

    def raise_cap_for_uploads():
        limit = app.extensions.get(_ROUTES, {}).get(request.endpoint)
        if limit is not None:
            request.max_content_length = limit()

    app.before_request_funcs.setdefault(None, []).insert(0, raise_cap_for_uploads)
