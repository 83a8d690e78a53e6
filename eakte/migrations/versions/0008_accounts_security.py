"""accounts: own passwords, role grants confirmed by a second holder, service accounts, server-side sessions, sign-in throttling

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (the defaults stay): on SQLite, rebuilding user_account would cascade
    # the deletion of its old copy into user_role and lose every role.
    op.add_column(
        "user_account",
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="person"),
    )
    op.add_column(
        "user_account",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "user_account",
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("user_role", schema=None) as batch_op:
        batch_op.add_column(sa.Column("granted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("granted_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("confirmed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_user_role_granted_by_id_user_account"),
            "user_account",
            ["granted_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_user_role_confirmed_by_id_user_account"),
            "user_account",
            ["confirmed_by_id"],
            ["id"],
        )
    op.create_table(
        "role_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_role_grant_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_role_grant_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_role_grant_requested_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_role_grant_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grant")),
        sa.UniqueConstraint("uuid", name=op.f("uq_role_grant_uuid")),
    )
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_grant_tenant_id"), ["tenant_id"], unique=False)
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_web_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_session_token_hash")),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_session_user_id"), ["user_id"], unique=False)
    # The throttle's rows are short-lived counters: replaced, not converted.
    op.drop_table("login_throttle")
    _create_throttle(
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        key_length=200,
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    _create_throttle(
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        key_length=160,
    )
    op.drop_table("web_session")
    op.drop_table("role_grant")
    with op.batch_alter_table("user_role", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_user_role_confirmed_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_user_role_granted_by_id_user_account"), type_="foreignkey"
        )
        for column in ("confirmed_by_id", "confirmed_at", "granted_by_id", "granted_at"):
            batch_op.drop_column(column)
    for column in ("password_changed_at", "must_change_password", "kind"):
        op.drop_column("user_account", column)


def _create_throttle(*columns: sa.Column, key_length: int) -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=key_length), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
