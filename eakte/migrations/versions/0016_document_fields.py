"""e-invoices and forms: fields read from a document (issue 25)

``document_field`` keeps named values read from a document's content (an e-invoice's number,
seller, dates, amount, Leitweg-ID), as text and typed (date, number with unit).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("value_number", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_document_field_document_id_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_field")),
    )
    with op.batch_alter_table("document_field", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_field_document_id"), ["document_id"])
        batch_op.create_index(batch_op.f("ix_document_field_name"), ["name"])


def downgrade() -> None:
    with op.batch_alter_table("document_field", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_field_name"))
        batch_op.drop_index(batch_op.f("ix_document_field_document_id"))
    op.drop_table("document_field")
