"""The eakte command against the real servers: init, verify and their failure modes."""

import io
import os
import subprocess
import sys
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from eakte.cli import main
from eakte.errors import ExitCode
from eakte.models import StoredObject, User
from eakte.services.objects import store_object
from storage.blobstore import BlobStore
from tests.fixtures.s3 import TEST_FLOOR, wait_for_floor


@pytest.fixture
def cli(env):
    runner = CliRunner()

    def run(*args, **env_overrides):
        return runner.invoke(main, list(args), env=env_overrides or None)

    return run


def test_init_creates_installation_and_is_repeatable(cli, rt, env):
    first = cli("init")
    assert first.exit_code == 0, first.output
    assert "password" in first.output and "shown only once" in first.output
    assert "Object Lock" in first.output
    second = cli("init")
    assert second.exit_code == 0, second.output
    assert "up to date" in second.output
    assert "password" not in second.output
    with rt.session() as session:
        assert session.scalar(select(func.count(User.id))) == 1


def test_init_takes_admin_password_from_env(cli, rt):
    result = cli("init", EAKTE_ADMIN_PASSWORD="a very long admin password")
    assert result.exit_code == 0, result.output
    assert "a very long admin password" not in result.output
    from eakte.services.accounts import authenticate

    with rt.session() as session:
        assert authenticate(session, "default", "admin", "a very long admin password")


def test_verify_clean_then_reports_missing_and_orphaned(cli, rt, tenant):
    assert cli("init").exit_code == 0
    # Stored with the floor of seconds, so that it can be removed below.
    s3 = rt.settings.s3
    short = BlobStore(
        s3.endpoint, s3.access_key, s3.secret_key, s3.bucket, min_retention=TEST_FLOOR
    )
    with rt.session() as session:
        row = store_object(
            session,
            short,
            tenant_id=tenant.id,
            key="default/a.txt",
            stream=io.BytesIO(b"hello"),
            content_type="text/plain",
        )
    clean = cli("verify")
    assert clean.exit_code == 0, clean.output
    assert "1 objects" in clean.output and "0 problem(s)" in clean.output

    rt.store.put("default/orphan.txt", io.BytesIO(b"stray"), content_type="text/plain")
    wait_for_floor(short)  # deletable once its lock has run out, not before
    short.delete_all_versions(row.key)
    dirty = cli("verify")
    assert dirty.exit_code == ExitCode.verify_failed
    assert f"objects: default/a.txt@{row.version_id}: missing" in dirty.output
    assert "orphans: default/orphan.txt@" in dirty.output


def _run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "eakte", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bad_config_is_one_line_without_traceback(env):
    result = _run_cli("verify", env={**env, "EAKTE_PORT": "eighty"})
    assert result.returncode == ExitCode.config
    assert result.stderr.strip() == (
        "eakte: error: EAKTE_PORT: expected a whole number, got 'eighty'"
    )


def test_unreachable_database_is_a_clear_message(env):
    url = "postgresql://nobody:s3cret@127.0.0.1:9/none"
    result = _run_cli("init", env={**env, "EAKTE_DATABASE_URL": url})
    assert result.returncode == ExitCode.database_unavailable
    assert "is unreachable" in result.stderr
    assert "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_s3_credentials_are_a_clear_message(env, database_url):
    result = _run_cli("init", env={**env, "EAKTE_S3_SECRET_KEY": "wrong-secret"})
    assert result.returncode == ExitCode.storage_unavailable, result.stderr
    assert "wrong-secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_s3_is_a_clear_message(env):
    result = _run_cli("init", env={**env, "EAKTE_S3_ENDPOINT": "127.0.0.1:9"})
    assert result.returncode == ExitCode.storage_unavailable, result.stderr
    assert "Traceback" not in result.stderr


def test_external_bucket_without_object_lock_is_refused(env, seaweed):
    from minio import Minio

    raw = Minio(seaweed.endpoint, seaweed.access_key, seaweed.secret_key, secure=False)
    bucket = f"plain-{uuid.uuid4().hex[:12]}"
    raw.make_bucket(bucket)
    result = _run_cli("init", env={**env, "EAKTE_S3_BUCKET": bucket})
    assert result.returncode == ExitCode.config, result.stderr
    assert "Object Lock" in result.stderr or "object lock" in result.stderr.lower()


def test_unwritable_data_dir_is_a_clear_message(env, tmp_path):
    (tmp_path / "afile").write_text("")
    result = _run_cli("init", env={**env, "EAKTE_DATA_DIR": str(tmp_path / "afile" / "d")})
    assert result.returncode == ExitCode.config
    assert "EAKTE_DATA_DIR" in result.stderr and "Traceback" not in result.stderr


def test_s3_unreachable_leaves_nothing_in_database(rt, tenant):
    from storage.blobstore import BlobStore
    from storage.errors import StorageUnavailable

    s3 = rt.settings.s3
    dead = BlobStore("127.0.0.1:9", s3.access_key, s3.secret_key, s3.bucket)
    with rt.session() as session:
        with pytest.raises(StorageUnavailable):
            store_object(
                session,
                dead,
                tenant_id=tenant.id,
                key="default/x",
                stream=io.BytesIO(b"x"),
                content_type="text/plain",
            )
        assert session.scalar(select(func.count(StoredObject.id))) == 0


def test_help_texts(cli):
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "serve", "worker", "verify"):
        assert command in result.output
