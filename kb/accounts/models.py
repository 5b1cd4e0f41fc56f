"""Users, organisations and personal API tokens."""

from __future__ import annotations

import enum
import time
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from kb.extensions import db
from kb.types import utcnow


def str_enum(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    """Store an enum by its value as a plain string column (portable across SQLite and PostgreSQL)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class Role(str, enum.Enum):
    """The one role ladder: each role may do everything the roles declared before it may."""

    CUSTOMER = "customer"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def level(self) -> int:
        """The rung on the ladder, from 0 (customer) upwards, in declaration order."""
        return _ROLE_LEVELS[self]

    def includes(self, other: "Role") -> bool:
        """The one "at least" comparison: does this role reach ``other``'s rung?"""
        return self.level >= other.level

    @classmethod
    def at_least(cls, minimum: "Role") -> list["Role"]:
        """The roles at or above ``minimum``, for ``role IN (...)`` queries."""
        return [role for role in cls if role.includes(minimum)]


# Permission checks ask for levels many times per page (every post's buttons): worked out once.
_ROLE_LEVELS = {role: number for number, role in enumerate(Role)}


class Plan(str, enum.Enum):
    STANDARD = "standard"
    PREMIUM = "premium"


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    plan: Mapped[Plan] = mapped_column(str_enum(Plan), default=Plan.STANDARD)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # ISO dates (YYYY-MM-DD) in the organisation's own calendar on which no business hours run.
    holidays: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["User"]] = relationship(back_populates="organization", order_by="User.email")
    domains: Mapped[list["OrganizationDomain"]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", order_by="OrganizationDomain.domain"
    )

    @property
    def domain_names(self) -> list[str]:
        return [d.domain for d in self.domains]

    def __repr__(self) -> str:
        return f"<Organization {self.name!r} {self.plan.value}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.CUSTOMER)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Part of every login identity: raising it ends every session and remember cookie of the user.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Raised by every change to what this user's own pages show (kb.page_cache.track_viewers).
    page_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # When the owner proved the address is theirs (verification or invitation link); None until then.
    email_verified_at: Mapped[datetime | None]

    organization: Mapped[Organization | None] = relationship(back_populates="members")
    api_tokens: Mapped[list["ApiToken"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="ApiToken.created_at"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """The identity Flask-Login stores in the session and the remember cookie: id, session version, issue time."""
        return f"{self.id}:{self.session_version or 1}:{int(time.time())}"

    def end_sessions(self) -> None:
        """Sign this user out everywhere: every identity handed out so far stops working."""
        self.session_version = (self.session_version or 1) + 1

    @validates("password_hash", "role", "disabled")
    def _end_sessions_on_change(self, key: str, value):
        # A new password, role or disabled state must not leave a session that predates it.
        if self.id is not None and getattr(self, key) != value:
            self.end_sessions()
        return value

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return not self.disabled

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_staff(self) -> bool:
        return self.role.includes(Role.STAFF)

    @property
    def is_admin(self) -> bool:
        return self.role.includes(Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # Only a SHA-256 of the token is kept; the prefix lets the owner recognise it in a list.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="api_tokens")


class OrganizationDomain(db.Model):
    """An email domain whose verified addresses join the organisation; a domain belongs to one organisation."""

    __tablename__ = "organization_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)

    organization: Mapped[Organization] = relationship(back_populates="domains")


class AdminAuditEntry(db.Model):
    """One change an admin made to an organisation or a user: which field, from what, to what, by whom, when."""

    __tablename__ = "admin_audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    organization: Mapped[Organization | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
