"""Friendly error pages that keep the site's navigation, and JSON errors for the API."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from kb.extensions import db

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Check what you entered and try again."),
    401: ("Sign-in needed", "You need to sign in to do that."),
    403: ("Not allowed", "Your account is not allowed to do that."),
    404: ("Page not found", "We could not find that page. It may have moved, or you may not have access to it."),
    405: ("Method not allowed", "That page cannot be used this way."),
    413: ("Too large", "What you sent is larger than the site accepts. Shorten it and try again."),
    415: ("Unsupported type", "The site does not accept that kind of content here."),
    422: ("Cannot process", "The request was understood but its content is not valid."),
    429: ("Slow down", "You have done that too often in a short time. Wait a minute and try again."),
    500: ("Something went wrong", "An unexpected error occurred on our side. It has been logged; please try again."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.args.get("format") == "json" or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(code: int, detail: str | None = None):
    """Render one error as a page (or JSON for API clients), keeping the status code."""
    title, message = MESSAGES.get(code, (f"Error {code}", "The request failed."))
    if wants_json():
        body = jsonify({"error": {"status": code, "title": title, "message": detail or message}})
    else:
        body = render_template("errors/error.html", code=code, title=title, message=message, detail=detail)
    return make_response(body, code)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(
            400, "The form expired or was sent from another site. Go back, reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        detail = error.description if error.code in (400, 413, 422, 429) and _custom(error) else None
        response = error_response(error.code, detail)
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)


def _custom(error: HTTPException) -> bool:
    """True when the view passed its own message, not Werkzeug's stock text."""
    return type(error).description != error.description
