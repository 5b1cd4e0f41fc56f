"""A tiny document kind used only by the search tests, so they need no other feature's code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from kb.extensions import db
from kb.search import SearchDoc, register_kind
from kb.types import utcnow

KIND = "note"


class Note(db.Model):
    __tablename__ = "search_test_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    headings: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[str] = mapped_column(String(80), default="")
    article_type: Mapped[str] = mapped_column(String(40), default="")
    versions: Mapped[str] = mapped_column(String(80), default="")
    visibility: Mapped[str] = mapped_column(String(40), default="public")
    published: Mapped[bool] = mapped_column(default=True)
    updated: Mapped[datetime] = mapped_column(default=utcnow)


class NoteComment(db.Model):
    __tablename__ = "search_test_note_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("search_test_notes.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    hidden: Mapped[bool] = mapped_column(default=False)


def build(ids: list[int]) -> dict[int, SearchDoc | None]:
    notes = db.session.scalars(select(Note).where(Note.id.in_(ids))).all()
    comments: dict[int, list[str]] = {}
    for c in db.session.scalars(select(NoteComment).where(NoteComment.note_id.in_(ids), NoteComment.hidden.is_(False))):
        comments.setdefault(c.note_id, []).append(c.text)
    out: dict[int, SearchDoc | None] = {}
    for n in notes:
        if not n.published:
            out[n.id] = None
            continue
        out[n.id] = SearchDoc(
            kind=KIND, id=n.id, title=n.title, body="\n\n".join([n.body, *comments.get(n.id, [])]),
            url=f"/notes/{n.id}", updated=n.updated, visibility=n.visibility,
            headings=[h for h in n.headings.split("\n") if h], tags=[t for t in n.tags.split(",") if t],
            category=n.category, category_name=n.category.replace("-", " ").title(),
            facets={"article_type": [n.article_type] if n.article_type else [],
                    "versions": [v for v in n.versions.split(",") if v]},
        )
    return out


def all_ids():
    return db.session.scalars(select(Note.id)).all()


def register(app) -> None:
    register_kind(app, KIND, build, all_ids, {Note: lambda n: [n.id], NoteComment: lambda c: [c.note_id]})


def add_note(title: str, body: str = "", **kw) -> Note:
    note = Note(title=title, body=body, **kw)
    db.session.add(note)
    db.session.commit()
    return note
