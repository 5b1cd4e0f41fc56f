"""The change counters: one row per kind of content, bumped in the transaction that changes it."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.extensions import db


class ChangeCounter(db.Model):
    """How many committed changes one kind of content (articles, forums) has seen: a cached page is
    still right while the counters of the kinds it shows are what they were when it was rendered."""

    __tablename__ = "change_counters"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
