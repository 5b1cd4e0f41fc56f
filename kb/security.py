"""Security headers, the safe-redirect rule and safe reading of the query string, for every feature."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, abort, request, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths are allowed as a place to return to after login."""
    if not target or not isinstance(target, str):
        return False
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


# The range of an Integer column on every database the site runs on (PostgreSQL's int4 is the narrowest).
DB_INT_MAX = 2**31 - 1
_INTEGER = re.compile(r"\s*(-?)(\d+)\s*", re.ASCII)


def int_arg(name: str, default: int | None = 1, *, low: int = 1, high: int = DB_INT_MAX) -> int | None:
    """An integer from the query string clamped to [low, high]; ``default`` when it is missing or not a number."""
    match = _INTEGER.fullmatch(request.args.get(name, ""))
    if match is None:
        return default
    sign, digits = match.groups()
    if len(digits) > 12:  # far outside any range; int() of thousands of digits is slow, then refused
        return low if sign else high
    return min(max(int(sign + digits), low), high)


def query_args(**overrides) -> dict:
    """This request's query string as ``url_for`` arguments, overrides applied.

    Keys starting with ``_`` are dropped (``url_for`` reads ``_external``, ``_method``, ``_scheme``,
    ``_anchor`` as its own options), and so are keys naming a URL part of this page (``?slug=``).
    """
    view_args = request.view_args or {}
    args = {k: v for k, v in request.args.items() if not k.startswith("_") and k not in view_args}
    args.update(overrides)
    return args


def url_with_args(endpoint: str, **overrides) -> str:
    """The URL of ``endpoint`` with this page's URL parts and query string, e.g. for the next page."""
    return url_for(endpoint, **{**(request.view_args or {}), **query_args(**overrides)})


def content_security_policy(app: Flask) -> str:
    image_hosts = " ".join(f"https://{host}" for host in app.config.get("IMAGE_HOSTS") or [])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: {image_hosts}".strip(),
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def register_security(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIntConverter
    app.add_template_global(url_with_args, "url_with_args")

    @app.before_request
    def no_nul_in_address():
        # NUL is never part of a real address, and PostgreSQL refuses it in any text it is compared with:
        # a path with one names nothing (400); query-string values lose it, as form fields do.
        if "\x00" in request.path:
            abort(400, description="The address contains a NUL character (%00). Remove it and try again.")
        if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
            request.args = ImmutableMultiDict(
                [(key.replace("\x00", ""), value.replace("\x00", "")) for key, value in request.args.items(multi=True)]
            )
    headers = security_headers(app)

    @app.after_request
    def set_security_headers(response):
        # One pass over the few headers a view set, instead of a search per header we add.
        present = {key.lower() for key, _ in response.headers}
        response.headers.extend([(key, value) for key, value in headers if key.lower() not in present])
        if "cache-control" not in present and request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response


def security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every response carries unless its view set its own, worked out once at start-up."""
    headers = [
        ("Content-Security-Policy", content_security_policy(app)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if app.config.get("SESSION_COOKIE_SECURE"):
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


class ApiAwareSessionInterface(SecureCookieSessionInterface):
    """Never hand out a session cookie on /api/: a bearer token must not turn into a browser login."""

    _serializer: tuple | None = None

    def get_signing_serializer(self, app):
        # Flask builds a new serializer (and key list) for every request; keep one per key set.
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._serializer is None or self._serializer[0] != keys:
            self._serializer = (keys, super().get_signing_serializer(app))
        return self._serializer[1]

    def save_session(self, app, session, response):
        if request.path.startswith("/api/"):
            return
        super().save_session(app, session, response)


class DatabaseIntConverter(IntegerConverter):
    """``<int:...>`` in every URL: ids beyond a 32-bit integer column are a 404, not a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=DB_INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
