"""directory sign-in (LDAP / Active Directory) and the second factor (issue 19)

``directory_config`` holds a tenant's own directory (its bind password encrypted),
``directory_group_map`` the admins' table of directory groups → roles and org units,
``directory_account`` which users the directory manages, ``totp_secret`` and ``recovery_code``
the second factor (secret encrypted, recovery codes hashed).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _created() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"],
        ["user_account.id"],
        name=op.f(f"fk_{table}_user_id_user_account"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "directory_config",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("starttls", sa.Boolean(), nullable=False),
        sa.Column("ca_file", sa.String(length=500), nullable=False),
        sa.Column("base_dn", sa.String(length=500), nullable=False),
        sa.Column("user_filter", sa.String(length=500), nullable=False),
        sa.Column("group_base_dn", sa.String(length=500), nullable=False),
        sa.Column("group_filter", sa.String(length=500), nullable=False),
        sa.Column("bind_dn", sa.String(length=500), nullable=False),
        sa.Column("bind_password_enc", sa.Text(), nullable=False),
        sa.Column("local_users", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        _created(),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_directory_config_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_directory_config")),
    )
    op.create_table(
        "directory_group_map",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("group_dn", sa.String(length=500), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        _created(),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_directory_group_map_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_directory_group_map_org_unit_id_org_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_group_map")),
        sa.UniqueConstraint(
            "tenant_id",
            "group_dn",
            "role",
            "org_unit_id",
            name=op.f("uq_directory_group_map_tenant_id"),
        ),
    )
    with op.batch_alter_table("directory_group_map", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directory_group_map_tenant_id"), ["tenant_id"])
    op.create_table(
        "directory_account",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("dn", sa.String(length=500), nullable=False),
        sa.Column("groups", sa.Text(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_by_sync_at", sa.DateTime(timezone=True), nullable=True),
        _user_fk("directory_account"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_directory_account_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_directory_account")),
    )
    with op.batch_alter_table("directory_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directory_account_tenant_id"), ["tenant_id"])
    op.create_table(
        "totp_secret",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        _created(),
        _user_fk("totp_secret"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_totp_secret")),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        _created(),
        _user_fk("recovery_code"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_code_user_id"), ["user_id"])


def downgrade() -> None:
    for table in ("recovery_code", "totp_secret", "directory_account"):
        op.drop_table(table)
    op.drop_table("directory_group_map")
    op.drop_table("directory_config")
