"""file versions found by their object's key and version id

The floor's nightly extension, the retention check of ``eakte verify`` and destruction look up
the file versions of a stored object by key and version id; without an index each lookup
scanned the table (hours at 300,000 objects, issue 13's benchmark).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_file_version_s3_key", "file_version", ["s3_key", "s3_version_id"])


def downgrade() -> None:
    op.drop_index("ix_file_version_s3_key", table_name="file_version")
