"""Schema migrations (Alembic, shipped inside the package) applied by ``eakte init``."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from eakte.errors import DatabaseNotInitialised
from indexing.pg.schema import TABLES as SEARCH_TABLES


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "eakte:migrations")
    return cfg


def include_name(name: str | None, type_: NameFilterType, _parents: NameFilterParentNames) -> bool:
    """What model comparisons look at: not the PostgreSQL search tables, which ``indexing.pg``
    owns (created by migration 0007, rebuilt by the index itself)."""
    return not (type_ == "table" and name in SEARCH_TABLES)


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # only a package shipped without its migrations has none
        raise RuntimeError("eakte: no schema migrations found in eakte/migrations/versions")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; existing data is kept (upgrade in place)."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def require_current(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise DatabaseNotInitialised(
            f"database schema is at {current or 'nothing'}, this version needs {head}: "
            "run 'eakte init' to upgrade"
        )
