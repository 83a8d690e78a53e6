"""Alembic environment: always driven programmatically by ``eakte.schema.upgrade``, which
passes the connection in (``config.attributes["connection"]``); there is no alembic.ini."""

from alembic import context

import retention.models  # noqa: F401  (the retention slice's tables: autogenerate must see them)
from eakte.models import Base
from eakte.schema import include_name

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
    compare_type=True,
    include_name=include_name,  # the search tables are not models
)
with context.begin_transaction():
    context.run_migrations()
