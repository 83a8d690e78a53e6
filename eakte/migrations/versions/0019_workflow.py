"""the clerk's daily work: routes (Geschäftsgang), steps, Wiedervorlagen, deputies (issue 16)

``route`` on a document or process, ``route_step`` its Beteiligungsschritte (parallel groups by
``group_no``), ``wiedervorlage`` resubmissions, ``deputy`` who stands in for whom when.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deputy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_deputy_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["user_account.id"], name=op.f("fk_deputy_deputy_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_unit.id"], name=op.f("fk_deputy_org_unit_id_org_unit")
        ),
        sa.ForeignKeyConstraint(
            ["principal_id"], ["user_account.id"], name=op.f("fk_deputy_principal_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_deputy_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deputy")),
        sa.UniqueConstraint("uuid", name=op.f("uq_deputy_uuid")),
    )
    with op.batch_alter_table("deputy", schema=None) as batch_op:
        batch_op.create_index("ix_deputy_deputy_period", ["deputy_id", "starts_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_deputy_principal_id"), ["principal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deputy_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "wiedervorlage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("process_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("on_behalf_of_id", sa.Integer(), nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_wiedervorlage_case_id_case_record")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_wiedervorlage_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_wiedervorlage_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"],
            ["user_account.id"],
            name=op.f("fk_wiedervorlage_done_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of_id"],
            ["user_account.id"],
            name=op.f("fk_wiedervorlage_on_behalf_of_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["process_id"], ["process.id"], name=op.f("fk_wiedervorlage_process_id_process")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_wiedervorlage_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_wiedervorlage_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wiedervorlage")),
        sa.UniqueConstraint("uuid", name=op.f("uq_wiedervorlage_uuid")),
    )
    with op.batch_alter_table("wiedervorlage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wiedervorlage_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wiedervorlage_due"), ["due"], unique=False)
        batch_op.create_index(batch_op.f("ix_wiedervorlage_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_wiedervorlage_user_open", ["user_id", "done_at", "due"], unique=False
        )

    op.create_table(
        "route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("process_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("signed_version_id", sa.Integer(), nullable=True),
        sa.Column("signed_sha256", sa.String(length=64), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_route_author_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_record.id"], name=op.f("fk_route_case_id_case_record")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_route_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["process_id"], ["process.id"], name=op.f("fk_route_process_id_process")
        ),
        sa.ForeignKeyConstraint(
            ["signed_version_id"],
            ["file_version.id"],
            name=op.f("fk_route_signed_version_id_file_version"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_route_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["file_version.id"], name=op.f("fk_route_version_id_file_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route")),
        sa.UniqueConstraint("uuid", name=op.f("uq_route_uuid")),
    )
    with op.batch_alter_table("route", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_route_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_route_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_route_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_route_process_id"), ["process_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_route_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_route_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "route_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.Integer(), nullable=False),
        sa.Column("group_no", sa.Integer(), nullable=False),
        sa.Column("addressee_user_id", sa.Integer(), nullable=True),
        sa.Column("addressee_unit_id", sa.Integer(), nullable=True),
        sa.Column("instruction", sa.String(length=32), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("became_current_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=40), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("on_behalf_of_id", sa.Integer(), nullable=True),
        sa.Column("overdue_notified", sa.Boolean(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["addressee_unit_id"],
            ["org_unit.id"],
            name=op.f("fk_route_step_addressee_unit_id_org_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["addressee_user_id"],
            ["user_account.id"],
            name=op.f("fk_route_step_addressee_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_route_step_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of_id"],
            ["user_account.id"],
            name=op.f("fk_route_step_on_behalf_of_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["route_id"], ["route.id"], name=op.f("fk_route_step_route_id_route")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route_step")),
        sa.UniqueConstraint("uuid", name=op.f("uq_route_step_uuid")),
    )
    with op.batch_alter_table("route_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_route_step_route_id"), ["route_id"], unique=False)
        batch_op.create_index(
            "ix_route_step_unit_status", ["addressee_unit_id", "status", "deadline"], unique=False
        )
        batch_op.create_index(
            "ix_route_step_user_status", ["addressee_user_id", "status", "deadline"], unique=False
        )

    op.create_table(
        "workflow_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_workflow_notice_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_workflow_notice_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_notice")),
    )
    with op.batch_alter_table("workflow_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workflow_notice_sent_at"), ["sent_at"])
        batch_op.create_index(batch_op.f("ix_workflow_notice_tenant_id"), ["tenant_id"])

    op.create_table(
        "workflow_mail_address",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_workflow_mail_address_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_workflow_mail_address")),
    )


def downgrade() -> None:
    op.drop_table("workflow_mail_address")
    with op.batch_alter_table("workflow_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_notice_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_workflow_notice_sent_at"))
    op.drop_table("workflow_notice")
    with op.batch_alter_table("route_step", schema=None) as batch_op:
        batch_op.drop_index("ix_route_step_user_status")
        batch_op.drop_index("ix_route_step_unit_status")
        batch_op.drop_index(batch_op.f("ix_route_step_route_id"))

    op.drop_table("route_step")
    with op.batch_alter_table("route", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_route_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_route_status"))
        batch_op.drop_index(batch_op.f("ix_route_process_id"))
        batch_op.drop_index(batch_op.f("ix_route_document_id"))
        batch_op.drop_index(batch_op.f("ix_route_case_id"))
        batch_op.drop_index(batch_op.f("ix_route_author_id"))

    op.drop_table("route")
    with op.batch_alter_table("wiedervorlage", schema=None) as batch_op:
        batch_op.drop_index("ix_wiedervorlage_user_open")
        batch_op.drop_index(batch_op.f("ix_wiedervorlage_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_wiedervorlage_due"))
        batch_op.drop_index(batch_op.f("ix_wiedervorlage_case_id"))

    op.drop_table("wiedervorlage")
    with op.batch_alter_table("deputy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deputy_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_deputy_principal_id"))
        batch_op.drop_index("ix_deputy_deputy_period")

    op.drop_table("deputy")
