"""search in PostgreSQL: the full-text tables of the PostgreSQL search backend

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

The tables are a projection owned by ``indexing.pg`` (dropped and rebuilt when their layout
changes, like the Whoosh index directory), so they are not ORM models: the migration only makes
sure they and the ``pg_trgm`` extension exist once the schema is current, created by the role
that runs ``eakte init``. Nothing to do on SQLite.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from indexing.pg import schema

    schema.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from indexing.pg import schema

    schema.drop(bind)
