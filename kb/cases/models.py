"""Support cases, their timeline (comments, internal notes, changes), watchers and forum links."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.accounts.models import Organization, User, str_enum
from kb.extensions import db
from kb.types import utcnow


class CaseStatus(str, enum.Enum):
    NEW = "new"
    OPEN = "open"
    WAITING = "waiting"  # waiting on the customer
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


STATUS_LABELS = {
    CaseStatus.NEW: "New",
    CaseStatus.OPEN: "Open",
    CaseStatus.WAITING: "Waiting on customer",
    CaseStatus.RESOLVED: "Resolved",
    CaseStatus.CLOSED: "Closed",
}
OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.WAITING)


class EventKind(str, enum.Enum):
    COMMENT = "comment"  # public: customers and staff see it, watchers get an email
    NOTE = "note"  # internal: staff only, never in customer pages, emails or the API
    STATUS = "status"
    SEVERITY = "severity"
    ESCALATION = "escalation"
    ASSIGNMENT = "assignment"
    THREAD_LINK = "thread_link"
    SLA = "sla"  # internal: the sweep marked the case at risk or breached
    FILE_REMOVED = "file_removed"  # staff deleted a file (old_value: its name); internal when the file was


INTERNAL_KINDS = (EventKind.NOTE, EventKind.ASSIGNMENT, EventKind.SLA)


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_due", "status", "response_due_at"),
        Index("ix_cases_status_update_due", "status", "next_update_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Set right after the first flush (id + CASE_NUMBER_OFFSET); what people quote and URLs use.
    number: Mapped[int | None] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    description_html: Mapped[str] = mapped_column(Text)
    severity: Mapped[int]
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.NEW)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    opener_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    product_version: Mapped[str] = mapped_column(String(40), default="")
    product_build: Mapped[str] = mapped_column(String(40), default="")
    business_impact: Mapped[str] = mapped_column(Text, default="")
    environment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10), default="web")  # web, api
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None]
    response_due_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    # Escalation: when and why the customer asked for it (None when never escalated).
    escalated_at: Mapped[datetime | None]
    escalation_reason: Mapped[str] = mapped_column(Text, default="")
    # The last SLA state staff were emailed about (at_risk, breached), so each change mails once.
    sla_alerted_state: Mapped[str] = mapped_column(String(12), default="")
    # The update clock (after the first response): when it last (re)started, clock seconds used before
    # a pause (waiting on the customer), when the next update is due (None while paused or closed),
    # and the last update state staff were alerted about.
    update_clock_started_at: Mapped[datetime | None]
    update_clock_used: Mapped[int] = mapped_column(default=0)
    next_update_due_at: Mapped[datetime | None]
    update_alerted_state: Mapped[str] = mapped_column(String(12), default="")
    # When staff posted (or declined to post) a resolution summary to the linked threads.
    summary_handled_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    opener: Mapped[User] = relationship(foreign_keys=[opener_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    watchers: Mapped[list[CaseWatcher]] = relationship(back_populates="case", cascade="all, delete-orphan")
    thread_links: Mapped[list[CaseThreadLink]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseThreadLink.id"
    )

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def escalated(self) -> bool:
        return self.escalated_at is not None

    def __repr__(self) -> str:
        return f"<Case {self.number} sev{self.severity} {self.status.value}>"


class CaseEvent(db.Model):
    """One entry on a case's timeline: a comment, an internal note, or a recorded change."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    old_value: Mapped[str] = mapped_column(String(40), default="")
    new_value: Mapped[str] = mapped_column(String(40), default="")
    via: Mapped[str] = mapped_column(String(10), default="web")  # web, email, api, sweep
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")
    author: Mapped[User | None] = relationship()

    @property
    def internal(self) -> bool:
        return self.kind in INTERNAL_KINDS or (self.kind is EventKind.FILE_REMOVED and self.new_value == "internal")


class CaseWatcher(db.Model):
    """Someone who gets an email for every public update of the case."""

    __tablename__ = "case_watchers"
    __table_args__ = (UniqueConstraint("case_id", "user_id", name="uq_case_watchers_case_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    case: Mapped[Case] = relationship(back_populates="watchers")
    user: Mapped[User] = relationship()


class CaseThreadLink(db.Model):
    """A forum thread linked to a case; a thread links to at most one case."""

    __tablename__ = "case_thread_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_threads.id", ondelete="CASCADE"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="thread_links")
    created_by: Mapped[User | None] = relationship()


class CaseMailMessage(db.Model):
    """A Message-ID already added to a case by email, so a repeated delivery adds nothing."""

    __tablename__ = "case_mail_messages"
    __table_args__ = (UniqueConstraint("case_id", "message_id", name="uq_case_mail_messages_case_message"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[CaseEvent | None] = relationship()


class CaseNotification(db.Model):
    """An on-site notice of public case activity for one watcher, listed with forum notifications."""

    __tablename__ = "case_notifications"
    __table_args__ = (Index("ix_case_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # comment, status, severity, resolved, escalation
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
    event: Mapped[CaseEvent | None] = relationship()
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
