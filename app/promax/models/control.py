"""Control-plane tables in the ``promax`` database.

The control plane keeps organisations, users and sessions. Business data
never lands here: it lives in each organisation's tenant schema.
"""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """Return a new random id as 32 lowercase hex characters."""
    return uuid.uuid4().hex


class ControlBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Organisation(ControlBase):
    __tablename__ = "organisations"

    # The id is the only input to the tenant schema name (tenant_<id>), so it
    # is generated here and never taken from user text.
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # When set, users without two-factor authentication must enrol at sign-in.
    require_2fa: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    users: Mapped[list["User"]] = relationship(back_populates="organisation")
    erp_link: Mapped["ErpLink | None"] = relationship(back_populates="organisation")


class User(ControlBase):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="viewer")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    # AES-GCM ciphertext of the base32 TOTP secret (see promax.auth.totp_cipher).
    # The secret is in use only once totp_enabled_at is set; before that it is
    # an enrolment awaiting its first code.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary(256), nullable=True)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The RFC 6238 time step (Unix time // 30) of the last accepted code.
    # A code for this step or an earlier one is rejected as a replay.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    department_id: Mapped[str | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), nullable=True
    )

    organisation: Mapped[Organisation] = relationship(back_populates="users")


class Department(ControlBase):
    """A group of users of one organisation; its permissions add to its members' roles."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class DepartmentPermission(ControlBase):
    """A permission (a tab or a feature) granted to every member of a department."""

    __tablename__ = "department_permissions"

    department_id: Mapped[str] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)


class UserPermission(ControlBase):
    """A per-user change to the role's permissions: allowed grants, not allowed withdraws."""

    __tablename__ = "user_permissions"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)
    allowed: Mapped[bool] = mapped_column(Boolean)


class Session(ControlBase):
    """A server-side sign-in session; every session JWT names one row."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Parsed from user_agent when the session starts: desktop, mobile, tablet, bot or unknown.
    device_type: Mapped[str] = mapped_column(String(20), default="")
    browser: Mapped[str] = mapped_column(String(40), default="")


class RecoveryCode(ControlBase):
    """A one-time two-factor recovery code, stored as a salted, keyed hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LoginChallenge(ControlBase):
    """The pending state between a correct password and the second factor.

    It is not a session and grants no access: the browser keeps a random
    token in a short-lived cookie, and this row stores only its SHA-256.
    """

    __tablename__ = "login_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # "verify" requests a code of an enabled second factor; "enrol" leads a
    # user whose organisation requires 2FA through enrolment.
    purpose: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ErpLink(ControlBase):
    """An organisation's ERP connection; every field is an AES-GCM ciphertext."""

    __tablename__ = "erp_links"

    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    site_url: Mapped[bytes] = mapped_column(LargeBinary(2048))
    api_key: Mapped[bytes] = mapped_column(LargeBinary(1024))
    api_secret: Mapped[bytes] = mapped_column(LargeBinary(1024))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )

    organisation: Mapped[Organisation] = relationship(back_populates="erp_link")


class AuditEvent(ControlBase):
    """A security event (sign-in, sign-out, sync, ...) kept for auditors."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now(), index=True)
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    organisation_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    detail: Mapped[str] = mapped_column(String(2000), default="{}")
