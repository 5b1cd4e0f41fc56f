"""Files on cases: taken from the new-case form, comments, notes, the API and mail; listed, deleted, pruned.

A file belongs to the case itself (``case``: sent when opening it, or through the API without a
comment) or to one timeline entry (``comment``: a comment or internal note). Files on an internal
note are internal: only staff see them. The viewing rule is the case's own (kb.cases.permissions).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select

from kb.accounts.permissions import is_staff
from kb.cases.models import Case, CaseEvent, CaseStatus, EventKind
from kb.cases.permissions import can_see_case
from kb.extensions import db
from kb.types import utcnow
from kb.uploads.models import StoredFile
from kb.uploads.permissions import register_file_owner
from kb.uploads.service import (
    UploadError,
    check_filename,
    delete_file,
    human_size,
    purge,
    store_upload,
)
from kb.uploads.storage import storage_for

CASE, COMMENT = "case", "comment"


def can_view_case_file(user, stored: StoredFile) -> bool:
    return can_see_case(user, db.session.get(Case, stored.owner_id) if stored.owner_id else None)


def can_view_comment_file(user, stored: StoredFile) -> bool:
    event = db.session.get(CaseEvent, stored.owner_id) if stored.owner_id else None
    if event is None or not can_see_case(user, event.case):
        return False
    return not event.internal or is_staff(user)


def register() -> None:
    register_file_owner(CASE, can_view_case_file)
    register_file_owner(COMMENT, can_view_comment_file)


def request_limit() -> int:
    """The largest request body an upload page takes: its files at their limits, plus the usual form."""
    config = current_app.config
    files = min(int(config["ATTACHMENT_MAX_BYTES"]) * int(config["ATTACHMENT_MAX_FILES"]),
                int(config["ATTACHMENT_CASE_MAX_BYTES"]))
    return files + int(config["MAX_CONTENT_LENGTH"])


@dataclass
class Incoming:
    """One file on its way in: its name as sent, a stream to read it from, its size when known."""

    filename: str
    stream: object
    size: int | None = None
    content_type: str | None = None


def from_uploads(uploads) -> list[Incoming]:
    """The files chosen in a form or multipart request (Werkzeug has spooled large ones to disk, not memory)."""
    chosen = []
    for storage in uploads or []:
        if storage is None or not getattr(storage, "filename", None):
            continue  # the empty part a file input sends when nothing was chosen
        stream = storage.stream
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        chosen.append(Incoming(storage.filename, stream, size, storage.mimetype))
    return chosen


def from_bytes(filename: str, data: bytes, content_type: str | None = None) -> Incoming:
    return Incoming(filename, io.BytesIO(data), len(data), content_type)


def case_files_query(case: Case):
    """Every live file of a case: its own and those of its timeline entries."""
    events = select(CaseEvent.id).where(CaseEvent.case_id == case.id)
    return select(StoredFile).where(
        StoredFile.deleted_at.is_(None),
        or_(and_(StoredFile.owner_kind == CASE, StoredFile.owner_id == case.id),
            and_(StoredFile.owner_kind == COMMENT, StoredFile.owner_id.in_(events))),
    )


def used_bytes(case: Case | None) -> int:
    if case is None or case.id is None:
        return 0
    query = case_files_query(case).with_only_columns(func.coalesce(func.sum(StoredFile.size), 0))
    return int(db.session.scalar(query))


def check(case: Case | None, files: list[Incoming]) -> None:
    """Refuse (UploadError) before anything is stored: too many, empty, too large, over the case's total, bad names."""
    config = current_app.config
    most, per_file = int(config["ATTACHMENT_MAX_FILES"]), int(config["ATTACHMENT_MAX_BYTES"])
    if len(files) > most:
        raise UploadError(f"You can attach at most {most} files at once; you chose {len(files)}.", 400)
    for incoming in files:
        check_filename(incoming.filename)
        if incoming.size == 0:
            raise UploadError(f"“{incoming.filename}” is empty. Choose the file again, or a different one.", 400)
        if incoming.size is not None and incoming.size > per_file:
            raise UploadError(f"“{incoming.filename}” is {human_size(incoming.size)}; each file can be at most "
                              f"{human_size(per_file)}.", 413)
    total = int(config["ATTACHMENT_CASE_MAX_BYTES"])
    adding = sum(incoming.size or 0 for incoming in files)
    used = used_bytes(case)
    if used + adding > total:
        raise UploadError(f"A case can hold at most {human_size(total)} of files; this one holds {human_size(used)}, "
                          f"and these files add {human_size(adding)}.", 413)


def take(files: Iterable[Incoming], *, uploader, case: Case, event: CaseEvent | None = None) -> list[StoredFile]:
    """Store the files on the case (or on its timeline entry); on a refusal nothing stays stored."""
    owner_kind, owner_id = (COMMENT, event.id) if event is not None else (CASE, case.id)
    internal = bool(event is not None and event.internal)
    taken: list[StoredFile] = []
    try:
        for incoming in files:
            taken.append(store_upload(incoming.stream, incoming.filename, uploader=uploader, owner_kind=owner_kind,
                                      owner_id=owner_id, internal=internal,
                                      max_bytes=int(current_app.config["ATTACHMENT_MAX_BYTES"]),
                                      content_type=incoming.content_type))
    except UploadError:
        for stored in taken:
            storage_for().delete(stored.storage_key)
        raise
    return taken


def visible_files(case: Case, user) -> list[StoredFile]:
    """The case's files this viewer may see, oldest first (internal ones for staff only)."""
    files = db.session.scalars(case_files_query(case).order_by(StoredFile.id)).all()
    staff = is_staff(user)
    return [f for f in files if staff or not f.internal]


def by_event(files: list[StoredFile]) -> dict[int, list[StoredFile]]:
    grouped: dict[int, list[StoredFile]] = {}
    for stored in files:
        if stored.owner_kind == COMMENT:
            grouped.setdefault(stored.owner_id, []).append(stored)
    return grouped


def file_of_case(case: Case, file_id: int) -> StoredFile | None:
    return db.session.scalar(case_files_query(case).where(StoredFile.id == file_id))


def remove(case: Case, stored: StoredFile, by) -> CaseEvent:
    """Staff delete a file; the timeline says who removed which file and when (never its content)."""
    delete_file(stored, by)
    event = CaseEvent(case=case, kind=EventKind.FILE_REMOVED, author=by, old_value=stored.filename[:40],
                      new_value="internal" if stored.internal else "", created_at=stored.deleted_at)
    db.session.add(event)
    return event


def page_context(case: Case, user) -> dict:
    """What the case page shows of the files: the list, and each timeline entry's own."""
    files = visible_files(case, user)
    return {"files": files, "files_by_event": by_event(files), "case_file_ids": {f.id for f in files if f.owner_kind == CASE}}


def prune(now=None) -> list[str]:
    """Remove files of cases closed longer than ATTACHMENT_RETENTION_DAYS; say what went. Caller commits."""
    days = current_app.config["ATTACHMENT_RETENTION_DAYS"]
    if days is None:
        return []
    cutoff = (now or utcnow()) - timedelta(days=int(days))
    closed_at = (select(CaseEvent.case_id, func.max(CaseEvent.created_at).label("at"))
                 .where(CaseEvent.kind == EventKind.STATUS, CaseEvent.new_value == CaseStatus.CLOSED.value)
                 .group_by(CaseEvent.case_id).subquery())
    closed = (select(Case).join(closed_at, closed_at.c.case_id == Case.id)
              .where(Case.status == CaseStatus.CLOSED, closed_at.c.at < cutoff).order_by(Case.id))
    removed = []
    for case in db.session.scalars(closed):
        for stored in db.session.scalars(case_files_query(case)).all():
            removed.append(f"case #{case.number}: {stored.filename} ({human_size(stored.size)})")
            purge(stored)
    return removed
