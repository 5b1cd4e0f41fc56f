"""The JSON API for opening and reading cases from the product: bearer tokens only, JSON errors.

CSRF-exempt because browsers cannot send the bearer token on their own; a session cookie never
authenticates here (the login manager ignores it on /api/ paths and this blueprint insists on the
Authorization header), so a forged cross-site request has nothing to ride on.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from kb.cases import actions, activity, attachments, notify, permissions
from kb.cases import severity as severity_info
from kb.cases.models import Case, CaseStatus, EventKind
from kb.cases.urls import case_url
from kb.cases.openapi import CASE_INPUT_FIELDS, build_document
from kb.errors import MESSAGES
from kb.extensions import db, limiter
from kb.markup import structure_problem
from kb.uploads import file_url
from kb.uploads.service import UploadError

api_bp = Blueprint("cases_api", __name__, url_prefix="/api/v1")


def _rate_key() -> str:
    user_id = getattr(current_user, "id", None) if getattr(current_user, "is_authenticated", False) else None
    return f"user:{user_id}" if user_id else f"ip:{request.remote_addr}"


_limit = limiter.limit(lambda: current_app.config["CASE_API_RATE_LIMIT"], key_func=_rate_key)


class ApiError(Exception):
    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields


def error(status: int, message: str, fields: dict[str, str] | None = None):
    body = {"error": {"status": status, "title": MESSAGES.get(status, ("Error", ""))[0], "message": message}}
    if fields:
        body["error"]["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api_bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error(exc.status, exc.message, exc.fields)


@api_bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    message = exc.description if exc.code in (400, 413, 429) else MESSAGES.get(exc.code, ("", "The request failed."))[1]
    response = error(exc.code or 500, message)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 429 and getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _require_token():
    """Only an ``Authorization: Bearer kbt_...`` header authenticates the API."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        raise ApiError(401, "Send a personal API token as 'Authorization: Bearer <token>'. Create one on your account page.")
    if not current_user.is_authenticated:
        raise ApiError(401, "That API token is not valid. It may have been revoked, or its account disabled.")
    return current_user._get_current_object()


@api_bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(build_document(current_app.config))


@api_bp.get("/cases")
@_limit
def list_cases():
    """The caller's organisation's cases (all cases for staff), newest activity first."""
    user = _require_token()
    show = request.args.get("status", "open")
    if show not in ("open", "closed", "all"):
        raise ApiError(400, "status must be open, closed or all.")
    page = _positive_int("page", 1)
    per_page = _positive_int("per_page", current_app.config["CASE_API_PER_PAGE"])
    if per_page > 100:
        raise ApiError(400, "per_page can be at most 100.")
    query = permissions.visible_cases(user)
    if show == "open":
        query = query.where(Case.status.in_([s for s in CaseStatus if s.is_open]))
    elif show == "closed":
        query = query.where(Case.status.in_([CaseStatus.RESOLVED, CaseStatus.CLOSED]))
    result = db.paginate(query.order_by(Case.updated_at.desc(), Case.id.desc()), page=page, per_page=per_page,
                         error_out=False, max_per_page=100)
    return jsonify({
        "cases": [case_json(case) for case in result.items],
        "page": result.page,
        "per_page": result.per_page,
        "pages": result.pages,
        "total": result.total,
    })


@api_bp.post("/cases")
@_limit
def create_case():
    """Open a case for the caller's organisation; the product sends its version and build."""
    user = _require_token()
    if not permissions.can_open_case(user):
        raise ApiError(403, "Only members of a customer organisation can open cases. Ask your administrator to add you to one.")
    data = _json_body()
    values = _validate(data)
    case = actions.open_case(user, source="api", **values)
    db.session.flush()
    notify.send_case_opened(case, actions.sla_sentence(case))
    db.session.commit()
    response = jsonify(case_json(case, detail=True))
    response.status_code = 201
    response.headers["Location"] = url_for("cases_api.get_case", number=case.number)
    return response


@api_bp.get("/cases/<int:number>")
@_limit
def get_case(number: int):
    """One case with its public comments; another organisation's case is a 404."""
    user = _require_token()
    case = actions.case_by_number(number)
    if case is None or not permissions.can_see_case(user, case):
        raise ApiError(404, f"There is no case {number} that you can see.")
    return jsonify(case_json(case, detail=True))


@api_bp.post("/cases/<int:number>/attachments")
@_limit
def add_attachments(number: int):
    """Attach files (multipart field ``files``, repeated) to a case, with an optional ``comment`` they go with."""
    user = _require_token()
    case = actions.case_by_number(number)
    if case is None or not permissions.can_see_case(user, case):
        raise ApiError(404, f"There is no case {number} that you can see.")
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "Send the files as multipart/form-data, each in a part named 'files'.")
    chosen = [f for f in request.files.getlist("files") if f.filename]
    if not chosen:
        raise ApiError(400, "Send at least one file in a part named 'files'.")
    comment = actions.clean(request.form.get("comment", "")).strip()
    limit = int(current_app.config["CASE_COMMENT_MAX_LENGTH"])
    if len(comment) > limit:
        raise ApiError(422, "The comment is too long.", {"comment": f"Must be at most {limit} characters long."})
    files = attachments.from_uploads(chosen)
    events = []
    try:
        attachments.check(case, files)
        if comment:
            events = actions.add_comment(case, user, comment, via="api")
            db.session.flush()
        stored = attachments.take(files, uploader=user, case=case, event=events[0] if events else None)
    except UploadError as exc:
        db.session.rollback()
        raise ApiError(exc.status, exc.message) from None
    if events:
        activity.record(case, events, user)
        notify.send_public_update(case, events, user)
    db.session.commit()
    response = jsonify({"attachments": [attachment_json(f) for f in stored]})
    response.status_code = 201
    response.headers["Location"] = url_for("cases_api.get_case", number=case.number)
    return response


def _positive_int(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 10**6:
        raise ApiError(400, f"{name} must be a positive whole number.")
    return int(raw)


def _json_body() -> dict:
    limit = int(current_app.config["CASE_API_MAX_BODY"])
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"The request body is larger than {limit} bytes.")
    if request.mimetype != "application/json":
        raise ApiError(415, "Send the case as JSON with 'Content-Type: application/json'.")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise ApiError(413, f"The request body is larger than {limit} bytes.")
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "The request body is not valid JSON.")
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object with the case fields.")
    if not _encodable(data):
        raise ApiError(400, "The request body contains a lone surrogate escape (such as \\ud800), "
                            "which is not a character; send text as valid UTF-8.")
    return data


def _encodable(data) -> bool:
    """JSON may spell half of a UTF-16 pair (\\ud800) that no database column can store."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# The text fields and their length settings: the same table the OpenAPI document is built from.
_LIMIT_KEYS = {name: key for name, key in CASE_INPUT_FIELDS.items() if key is not None}


def _validate(data: dict) -> dict:
    """Check every field; all problems are reported together as a 422."""
    problems: dict[str, str] = {}
    unknown = sorted(set(data) - set(CASE_INPUT_FIELDS))
    for name in unknown:
        problems[str(name)[:60]] = "Unknown field."
    values: dict = {}
    for name, key in _LIMIT_KEYS.items():
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            problems[name] = "Must be a string."
            continue
        limit = int(current_app.config[key])
        if len(value) > limit:
            problems[name] = f"Must be at most {limit} characters long."
        values[name] = value
    for name in ("title", "description"):
        if name not in problems and not actions.clean(values.get(name, "")).strip():
            problems[name] = "Required and cannot be empty."
    if "description" not in problems and (problem := structure_problem(values.get("description", ""))):
        problems["description"] = problem
    severity = data.get("severity")
    if isinstance(severity, float) and severity.is_integer():
        severity = int(severity)
    if isinstance(severity, bool) or not isinstance(severity, int) or severity not in (1, 2, 3, 4):
        problems["severity"] = "Required: a whole number from 1 (most urgent) to 4."
    values["severity"] = severity
    if problems:
        raise ApiError(422, "Some fields are missing or invalid.", problems)
    return values


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def attachment_json(stored) -> dict:
    return {
        "id": stored.id,
        "filename": stored.filename,
        "size": stored.size,
        "content_type": stored.content_type,
        "sha256": stored.sha256,
        "uploaded_by": stored.uploaded_by.display_name if stored.uploaded_by else None,
        "created_at": _iso(stored.created_at),
        "url": file_url(stored, external=True, api=True),
    }


def case_json(case: Case, detail: bool = False) -> dict:
    """What a customer may know about a case; internal notes and staff-only events never appear."""
    sla = actions.sla_status(case)
    body = {
        "number": case.number,
        "url": case_url(case, external=True),
        "title": case.title,
        "severity": case.severity,
        "severity_label": severity_info.label(case.severity),
        "status": case.status.value,
        "organization": case.organization.name,
        "opened_by": case.opener.display_name,
        "product_version": case.product_version,
        "product_build": case.product_build,
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
        "first_response_at": _iso(case.first_response_at),
        "response_due_at": _iso(case.response_due_at),
        "sla": {
            "state": sla.state,
            "label": sla.label,
            "seconds_left": int(sla.remaining.total_seconds()) if sla.running else None,
        },
        "escalated": case.escalated,
        "escalated_at": _iso(case.escalated_at),
    }
    if detail:
        body.update({
            "description": case.description,
            "business_impact": case.business_impact,
            "environment": case.environment,
            "comments": [
                {
                    "author": event.author.display_name if event.author else "Support Center",
                    "from_support": bool(event.author and event.author.is_staff),
                    "body": event.body,
                    "created_at": _iso(event.created_at),
                }
                for event in case.events
                if event.kind is EventKind.COMMENT
            ],
            "attachments": [attachment_json(f) for f in attachments.visible_files(case, None)],
        })
    return body
