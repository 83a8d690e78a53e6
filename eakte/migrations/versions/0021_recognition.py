"""recognition: page quality, metadata suggestions, filing models (issue 18)

``page_quality`` keeps each OCRed page's mean word confidence and share of German dictionary
words, and the batch check's verdict on it; ``metadata_suggestion`` what recognition suggested
for a document's title, letter date, sender and type, and what the clerk accepted;
``filing_model`` a tenant's filing classifier.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_quality",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("dictionary_share", sa.Float(), nullable=True),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_page_quality_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_page_quality_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["checked_by_id"],
            ["user_account.id"],
            name=op.f("fk_page_quality_checked_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_quality")),
        sa.UniqueConstraint("document_id", "page", name=op.f("uq_page_quality_document_id")),
    )
    with op.batch_alter_table("page_quality", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_quality_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_page_quality_document_id"), ["document_id"])

    op.create_table(
        "metadata_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("suggested", sa.Text(), nullable=False),
        sa.Column("accepted", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_metadata_suggestion_tenant_id_tenant")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_metadata_suggestion_document_id_document"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_metadata_suggestion_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadata_suggestion")),
        sa.UniqueConstraint(
            "document_id", "field", name=op.f("uq_metadata_suggestion_document_id")
        ),
    )
    with op.batch_alter_table("metadata_suggestion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metadata_suggestion_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_metadata_suggestion_document_id"), ["document_id"])

    op.create_table(
        "filing_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("last_document_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_filing_model_tenant_id_tenant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_model")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_filing_model_tenant_id")),
    )


def downgrade() -> None:
    op.drop_table("filing_model")
    with op.batch_alter_table("metadata_suggestion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metadata_suggestion_document_id"))
        batch_op.drop_index(batch_op.f("ix_metadata_suggestion_tenant_id"))
    op.drop_table("metadata_suggestion")
    with op.batch_alter_table("page_quality", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_quality_document_id"))
        batch_op.drop_index(batch_op.f("ix_page_quality_tenant_id"))
    op.drop_table("page_quality")
