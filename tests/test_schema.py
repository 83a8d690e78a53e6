"""Migrations: applied from nothing, idempotent, and upgrading in place keeps the data."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import inspect, select, text

from eakte import schema
from eakte.db import make_engine, make_session_factory
from eakte.models import Role, Tenant, User
from eakte.passwords import hash_password
from eakte.services.accounts import authenticate


def test_migrations_apply_and_repeat(database_url):
    engine = make_engine(database_url)
    assert schema.current_revision(engine) is None
    schema.upgrade(engine)
    assert schema.current_revision(engine) == schema.head_revision()
    schema.upgrade(engine)  # a second run changes nothing
    tables = set(inspect(engine).get_table_names())
    assert {"tenant", "user_account", "user_role", "org_unit", "stored_object"} <= tables
    schema.require_current(engine)
    engine.dispose()


def test_upgrade_in_place_keeps_data(database_url):
    """An installation made by the first release keeps its tenant and users after upgrading."""
    engine = make_engine(database_url)
    schema.upgrade(engine, "0001")
    with engine.begin() as conn:  # what release 0001 wrote, in its own schema
        conn.execute(
            text(
                "INSERT INTO tenant (id, slug, name, uuid, created_at) "
                "VALUES (1, 'default', 'Usingen', :u, :now)"
            ),
            {
                "u": uuid.uuid4().hex if conn.dialect.name == "sqlite" else uuid.uuid4(),
                "now": datetime.now(UTC),
            },
        )
        conn.execute(
            text(
                "INSERT INTO user_account (id, tenant_id, username, display_name, password_hash,"
                " active, uuid, created_at) VALUES (1, 1, 'anna', 'Anna', :h, true, :u, :now)"
            ),
            {
                "h": hash_password("long enough password"),
                "u": uuid.uuid4().hex if conn.dialect.name == "sqlite" else uuid.uuid4(),
                "now": datetime.now(UTC),
            },
        )
        conn.execute(text("INSERT INTO user_role (user_id, role) VALUES (1, 'clerk')"))
    schema.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        assert session.scalar(select(Tenant.name)) == "Usingen"
        assert session.scalar(select(User.username)) == "anna"
        user = authenticate(session, "default", "anna", "long enough password")
        assert user is not None and user.has_role(Role.clerk)
    engine.dispose()


def test_models_match_migrations(database_url):
    """Every table and column the models declare is created by the migrations, and nothing else:
    a model change without its migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import retention.models  # noqa: F401  (retention's tables map on the shared Base)
    from eakte.models import Base

    engine = make_engine(database_url)
    schema.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": schema.include_name})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_postgresql_search_tables_come_with_the_schema(database_url):
    """Migration 0007: the PostgreSQL search backend's tables exist once the schema is current
    (and nothing is created on SQLite)."""
    engine = make_engine(database_url)
    schema.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    if engine.dialect.name == "postgresql":
        assert {"search_entry", "search_word", "search_state"} <= tables
    else:
        assert not tables & {"search_entry", "search_word", "search_state"}
    engine.dispose()
