"""The mail outbox: one row per message, written in the transaction of the change that caused it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.extensions import db
from kb.types import utcnow


class MailStatus(enum.Enum):
    WAITING = "waiting"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The To addresses, one a line. The message is built when it is sent: the request only
    # records its parts, so a reply with many watchers costs little more than one with none.
    recipients: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(255))
    # A template under templates/mail/ with its JSON context, or ready text (and HTML) from send_mail.
    template: Mapped[str] = mapped_column(String(60), default="")
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str] = mapped_column(Text, default="")
    reply_to: Mapped[str] = mapped_column(String(320), default="")
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[MailStatus] = mapped_column(
        Enum(MailStatus, native_enum=False, create_constraint=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=MailStatus.WAITING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]

    @property
    def recipient_list(self) -> list[str]:
        return [line for line in self.recipients.split("\n") if line]
