"""Downloading stored files: permission-checked, always safe to open, resumable (Range requests)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, request, stream_with_context
from flask_login import current_user

from kb.extensions import db
from kb.uploads.models import StoredFile
from kb.uploads.permissions import can_view_file
from kb.uploads.service import sniff_image
from kb.uploads.storage import storage_for
from kb.urls import build_url

bp = Blueprint("uploads", __name__)

# A file is never a page: no scripts, no plugins, no same-origin rights even if a browser renders it.
FILE_CSP = "default-src 'none'; sandbox"


def file_url(stored: StoredFile, *, external: bool = False, api: bool = False) -> str:
    """The one address of a stored file: ``/files/<id>/<name>``, or under /api/v1/ for bearer-token clients."""
    endpoint = "uploads.api_download" if api else "uploads.download"
    return build_url(endpoint, file_id=stored.id, name=stored.filename, external=external)


def content_disposition(disposition: str, filename: str) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''...`` (RFC 6266 with RFC 5987 encoding)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in filename)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@bp.route("/files/<int:file_id>/<name>")
@bp.route("/api/v1/files/<int:file_id>/<name>", endpoint="api_download")  # the API token signs in here
def download(file_id: int, name: str):
    """Send a file to a viewer its owner allows; the same 404 for a missing file and a forbidden one."""
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.filename != name or not can_view_file(current_user, stored):
        abort(404)
    storage = storage_for()
    try:
        head = b"".join(storage.open_range(stored.storage_key, 0, min(16, stored.size)))
    except FileNotFoundError:
        abort(404)
    image = sniff_image(head)
    etag = f'"{stored.sha256}"'
    start, end, status = 0, stored.size, 200
    requested = request.range  # None when absent or unreadable: then the whole file, as RFC 9110 says
    if_range = request.headers.get("If-Range")
    if requested is not None and requested.units == "bytes" and len(requested.ranges) == 1 and (not if_range or if_range == etag):
        span = requested.range_for_length(stored.size)
        if span is None:
            response = Response(status=416)
            response.headers["Content-Range"] = f"bytes */{stored.size}"
            return _safe(response)
        start, end = span
        status = 206
    body = storage.open_range(stored.storage_key, start, end)
    response = Response(stream_with_context(body), status=status, mimetype=image or "application/octet-stream",
                        direct_passthrough=True)
    response.headers["Content-Length"] = str(end - start)
    if status == 206:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{stored.size}"
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["ETag"] = etag
    response.headers["Content-Disposition"] = content_disposition("inline" if image else "attachment", stored.filename)
    response.headers["Cache-Control"] = "private, no-cache"
    return _safe(response)


def _safe(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
