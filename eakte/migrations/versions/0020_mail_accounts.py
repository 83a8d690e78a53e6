"""mail accounts: IMAP intake (issue 17)

``mail_account`` holds a tenant's IMAP accounts (server, security, user, the secret encrypted
with the installation's key, target inbox, folders, after-action, filters, poll interval);
``mail_fetch`` records each message taken from an account and whether it was moved or flagged
on the server afterwards; ``ozg_mapping`` says where an OZG application package goes by its
service key (LeiKa): an org unit's inbox, or a new case under a file-plan node.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=20), nullable=False),
        sa.Column("auth", sa.String(length=20), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("ca_file", sa.String(length=1024), nullable=False),
        sa.Column("inbox_org_unit_id", sa.Integer(), nullable=False),
        sa.Column("folders", sa.String(length=1000), nullable=False),
        sa.Column("after_action", sa.String(length=10), nullable=False),
        sa.Column("after_folder", sa.String(length=255), nullable=False),
        sa.Column("after_flag", sa.String(length=100), nullable=False),
        sa.Column("sender_filter", sa.String(length=500), nullable=False),
        sa.Column("subject_filter", sa.String(length=500), nullable=False),
        sa.Column("poll_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_org_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_mail_account_inbox_org_unit_id_org_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_mail_account_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_account")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_mail_account_tenant_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_mail_account_uuid")),
    )
    op.create_index(op.f("ix_mail_account_tenant_id"), "mail_account", ["tenant_id"], unique=False)
    op.create_table(
        "mail_fetch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=500), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("quarantined_file_id", sa.Integer(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["mail_account.id"], name=op.f("fk_mail_fetch_account_id_mail_account")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_mail_fetch_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["quarantined_file_id"],
            ["quarantined_file.id"],
            name=op.f("fk_mail_fetch_quarantined_file_id_quarantined_file"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_fetch")),
        sa.UniqueConstraint("account_id", "message_key", name=op.f("uq_mail_fetch_account_id")),
    )
    op.create_index(op.f("ix_mail_fetch_account_id"), "mail_fetch", ["account_id"], unique=False)

    op.create_table(
        "ozg_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("service_key", sa.String(length=40), nullable=False),
        sa.Column("service_name", sa.String(length=300), nullable=False),
        sa.Column("file_plan_code", sa.String(length=64), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_ozg_mapping_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_ozg_mapping_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ozg_mapping")),
        sa.UniqueConstraint("tenant_id", "service_key", name=op.f("uq_ozg_mapping_tenant_id")),
    )
    op.create_index(op.f("ix_ozg_mapping_tenant_id"), "ozg_mapping", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ozg_mapping_tenant_id"), table_name="ozg_mapping")
    op.drop_table("ozg_mapping")
    op.drop_index(op.f("ix_mail_fetch_account_id"), table_name="mail_fetch")
    op.drop_table("mail_fetch")
    op.drop_index(op.f("ix_mail_account_tenant_id"), table_name="mail_account")
    op.drop_table("mail_account")
