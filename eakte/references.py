"""File references (Aktenzeichen, R2): pattern, formatting and the never-reused running number."""

from __future__ import annotations

import string
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eakte.errors import ConfigError
from eakte.models import FileReferenceCounter

DEFAULT_PATTERN = "{plan}-{seq:04d}/{year}"
FIELDS = {"plan", "seq", "year"}


def validate_pattern(pattern: str, variable: str = "EAKTE_FILE_REFERENCE_PATTERN") -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        raise ConfigError(f"{variable}: {pattern!r} is not a valid pattern ({exc})") from None
    if not names <= FIELDS:
        raise ConfigError(f"{variable}: unknown field(s) {', '.join(sorted(names - FIELDS))}")
    if "seq" not in names:
        raise ConfigError(f"{variable}: the pattern needs {{seq}} to make references unique")
    try:
        pattern.format(plan="1.2", seq=1, year=2026)
    except (ValueError, KeyError, IndexError) as exc:
        raise ConfigError(f"{variable}: {pattern!r} is not a valid pattern ({exc})") from None
    return pattern


def next_number(session: Session, node_id: int, year: int) -> int:
    """Atomically take the next running number of a node and year, inside the caller's
    transaction: one upsert statement, so concurrent callers on PostgreSQL and SQLite never
    receive the same number."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, FileReferenceCounter.__table__)  # declared as FromClause; a Table
    stmt = (
        insert(table)
        .values(node_id=node_id, year=year, last_value=1)
        .on_conflict_do_update(
            index_elements=[table.c.node_id, table.c.year],
            set_={"last_value": table.c.last_value + 1},
        )
        .returning(table.c.last_value)
    )
    return session.execute(stmt).scalar_one()


def format_reference(pattern: str, plan: str, seq: int, year: int) -> str:
    return pattern.format(plan=plan, seq=seq, year=year)
