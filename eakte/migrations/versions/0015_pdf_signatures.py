"""signed PDFs: validated signatures per document (issue 25)

``pdf_signature`` holds what the last validation of a document's signatures found: signer,
signing time, status, whether the PDF was changed after signing, whether it shows the marks
of a qualified signature, and the details in words.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pdf_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("field_name", sa.String(length=300), nullable=False),
        sa.Column("signer", sa.String(length=300), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=300), nullable=False),
        sa.Column("signing_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timestamp_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("whole_document", sa.Boolean(), nullable=False),
        sa.Column("modified_after_signing", sa.Boolean(), nullable=False),
        sa.Column("qualified", sa.Boolean(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_pdf_signature_document_id_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pdf_signature")),
    )
    with op.batch_alter_table("pdf_signature", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pdf_signature_document_id"), ["document_id"])


def downgrade() -> None:
    with op.batch_alter_table("pdf_signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pdf_signature_document_id"))
    op.drop_table("pdf_signature")
