"""Add two-factor authentication, recovery codes, sign-in challenges and session devices.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade():
    op.add_column(
        "organisations",
        sa.Column("require_2fa", sa.Boolean, server_default=sa.false(), nullable=False),
    )
    op.add_column("users", sa.Column("totp_secret", sa.LargeBinary(256), nullable=True))
    op.add_column("users", sa.Column("totp_enabled_at", sa.DateTime, nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger, nullable=True))
    op.add_column(
        "sessions", sa.Column("device_type", sa.String(20), server_default="", nullable=False)
    )
    op.add_column("sessions", sa.Column("browser", sa.String(40), server_default="", nullable=False))

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("users.id", name="fk_recovery_codes_user_id_users"),
            nullable=False,
        ),
        sa.Column("code_hash", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, server_default=sa.func.now(), nullable=False),
        sa.Column("used_at", sa.DateTime, nullable=True),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])

    op.create_table(
        "login_challenges",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("users.id", name="fk_login_challenges_user_id_users"),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("failed_attempts", sa.Integer, server_default="0", nullable=False),
        sa.Column("consumed_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_login_challenges_token_hash"),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_login_challenges_user_id", "login_challenges", ["user_id"])


def downgrade():
    op.drop_table("login_challenges")
    op.drop_table("recovery_codes")
    op.drop_column("sessions", "browser")
    op.drop_column("sessions", "device_type")
    op.drop_column("users", "totp_last_step")
    op.drop_column("users", "totp_enabled_at")
    op.drop_column("users", "totp_secret")
    op.drop_column("organisations", "require_2fa")
