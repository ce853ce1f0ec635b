"""Add departments, per-user permission grants and department tab grants.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade():
    op.create_table(
        "departments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "organisation_id",
            sa.String(32),
            sa.ForeignKey("organisations.id", name="fk_departments_organisation_id_organisations"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_departments"),
        sa.UniqueConstraint("organisation_id", "name", name="uq_departments_organisation_id"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "department_permissions",
        sa.Column(
            "department_id",
            sa.String(32),
            sa.ForeignKey("departments.id", name="fk_department_permissions_department_id_departments",
                          ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("permission", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("department_id", "permission", name="pk_department_permissions"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "user_permissions",
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("users.id", name="fk_user_permissions_user_id_users", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("permission", sa.String(64), nullable=False),
        # True grants the permission on top of the role, False withdraws it.
        sa.Column("allowed", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "permission", name="pk_user_permissions"),
        **TABLE_OPTIONS,
    )
    op.add_column("users", sa.Column("department_id", sa.String(32), nullable=True))
    op.create_foreign_key(
        "fk_users_department_id_departments", "users", "departments", ["department_id"], ["id"],
        ondelete="SET NULL",
    )


def downgrade():
    op.drop_constraint("fk_users_department_id_departments", "users", type_="foreignkey")
    op.drop_column("users", "department_id")
    op.drop_table("user_permissions")
    op.drop_table("department_permissions")
    op.drop_table("departments")
