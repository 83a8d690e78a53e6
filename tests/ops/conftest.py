"""Fixtures for the operations tests: Redis, a fresh installation to restore into, the CLI."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url

from eakte.cli import main
from eakte.config import S3Settings, Settings
from eakte.db import make_engine
from storage.blobstore import BlobStore
from tests.fixtures.s3 import drop_bucket
from tests.ops import redis_server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url, started = redis_server.server_url()
    try:
        yield url
    finally:
        if started is not None:
            started.terminate()
            started.wait(timeout=30)


def free_port() -> int:
    """A port nothing listens on (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def cli(env):
    """``cli(*args, **env_overrides)``: the eakte command in-process with the test's settings."""
    runner = CliRunner()

    def run(*args, **env_overrides):
        return runner.invoke(main, [str(a) for a in args], env=env_overrides or None)

    return run


@dataclasses.dataclass
class FreshInstall:
    """Another installation: new data dir, empty database of the same kind, new bucket."""

    settings: Settings
    env: dict[str, str]

    def store(self) -> BlobStore:
        s3 = self.settings.s3
        return BlobStore(s3.endpoint, s3.access_key, s3.secret_key, s3.bucket)


@pytest.fixture
def fresh_install(settings, rt, tmp_path, request, seaweed) -> Iterator[FreshInstall]:
    data_dir = tmp_path / "restored"
    created_db = None
    if settings.is_sqlite:
        database_url = f"sqlite:///{data_dir / 'eakte.db'}"
    else:
        # A database of its own whose search_path names the source's schema: the same
        # configuration on a new server, as after a disaster.
        with rt.engine.connect() as conn:
            pg_schema = conn.scalar(text("SELECT current_schema()"))
        server = request.getfixturevalue("pg_server_url")
        created_db = f"r_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{created_db}"')
        url = make_url(server).set(drivername="postgresql+psycopg", database=created_db)
        url = url.update_query_dict({"options": f"-csearch_path={pg_schema}"})
        database_url = url.render_as_string(hide_password=False)
    fresh = dataclasses.replace(
        settings,
        data_dir=data_dir,
        database_url=database_url,
        s3=dataclasses.replace(settings.s3, bucket=f"r-{uuid.uuid4().hex[:16]}"),
    )
    env = {
        "EAKTE_DATA_DIR": str(data_dir),
        "EAKTE_DATABASE_URL": database_url,
        "EAKTE_S3_BUCKET": fresh.s3.bucket,
    }
    install = FreshInstall(fresh, env)
    try:
        yield install
    finally:
        drop_bucket(seaweed, fresh.s3.bucket)
        if created_db:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{created_db}" WITH (FORCE)')


@contextlib.contextmanager
def engine_for(settings: Settings):
    engine = make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def dead_s3(settings: Settings) -> S3Settings:
    return dataclasses.replace(settings.s3, endpoint=f"127.0.0.1:{free_port()}")
