"""The mail outbox: one row per message, written in the transaction of the change that caused it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Index, String, Text
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
    # Envelope recipients, one address per line; the message itself is stored ready to send.
    recipients: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(40), default="message")
    raw: Mapped[str] = mapped_column(Text)
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
