"""Configuration from EAKTE_* variables: defaults need no set-up, bad values are named."""

from datetime import timedelta

import pytest

from eakte.config import Settings
from eakte.errors import ConfigError, DataDirError, ExitCode


def test_defaults_need_no_setup(tmp_path):
    settings = Settings.from_env({"HOME": str(tmp_path), "XDG_DATA_HOME": ""})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.s3.embedded
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("eakte.db")


def test_trusted_proxies_are_addresses_or_networks():
    settings = Settings.from_env({"EAKTE_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16,::1"})
    assert settings.trusted_proxies == ("10.0.0.1/32", "192.168.0.0/16", "::1/128")
    assert Settings.from_env({}).trusted_proxies == ()


def test_every_object_is_locked_for_a_year_unless_told_otherwise():
    """Issue 13: the COMPLIANCE floor; from the environment never less than a day."""
    assert Settings.from_env({}).min_retention == timedelta(days=365)
    assert Settings.from_env({"EAKTE_MIN_RETENTION_DAYS": "30"}).min_retention == timedelta(30)


def test_postgres_url_uses_psycopg3():
    settings = Settings.from_env({"EAKTE_DATABASE_URL": "postgresql://db.example/eakte"})
    assert settings.database_url == "postgresql+psycopg://db.example/eakte"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("EAKTE_PORT", "eighty", "EAKTE_PORT: expected a whole number"),
        ("EAKTE_PORT", "70000", "EAKTE_PORT: must be between 1 and 65535"),
        ("EAKTE_S3_BUCKET", "Bad_Bucket", "EAKTE_S3_BUCKET: 'Bad_Bucket' is not a valid bucket"),
        ("EAKTE_S3_SECURE", "maybe", "EAKTE_S3_SECURE: expected true or false"),
        ("EAKTE_DATABASE_URL", "mysql://x/y", "EAKTE_DATABASE_URL: unsupported database 'mysql'"),
        ("EAKTE_REDIS_URL", "http://x", "EAKTE_REDIS_URL: expected a redis:// URL"),
        ("EAKTE_LOG_LEVEL", "loud", "EAKTE_LOG_LEVEL: expected one of"),
        ("EAKTE_MAX_UPLOAD_MB", "0", "EAKTE_MAX_UPLOAD_MB: must be between"),
        ("EAKTE_SEARCH_BACKEND", "solr", "EAKTE_SEARCH_BACKEND: expected one of"),
        ("EAKTE_SEARCH_BACKEND", "postgresql", "EAKTE_SEARCH_BACKEND: postgresql needs"),
        ("EAKTE_TRUSTED_PROXIES", "10.0.0.1,proxy", "EAKTE_TRUSTED_PROXIES: 'proxy' is not an IP"),
        ("EAKTE_MIN_RETENTION_DAYS", "0", "EAKTE_MIN_RETENTION_DAYS: must be between 1 and"),
        ("EAKTE_MIN_RETENTION_DAYS", "0.5", "EAKTE_MIN_RETENTION_DAYS: expected a whole number"),
    ],
)
def test_bad_value_names_the_variable(name, value, expected):
    with pytest.raises(ConfigError) as info:
        Settings.from_env({name: value})
    assert str(info.value).startswith(expected)
    assert info.value.exit_code == ExitCode.config


def test_postgresql_search_backend_with_postgresql():
    settings = Settings.from_env(
        {"EAKTE_DATABASE_URL": "postgresql://db/eakte", "EAKTE_SEARCH_BACKEND": "PostgreSQL"}
    )
    assert settings.search_backend == "postgresql"
    assert Settings.from_env({}).search_backend == "whoosh"


def test_external_endpoint_needs_keys():
    with pytest.raises(ConfigError, match="EAKTE_S3_ACCESS_KEY"):
        Settings.from_env({"EAKTE_S3_ENDPOINT": "s3.example:9000"})


def test_data_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    settings = Settings.from_env({"EAKTE_DATA_DIR": str(tmp_path / "file")})
    with pytest.raises(DataDirError, match="not a directory"):
        settings.ensure_data_dir()


def test_unwritable_data_dir_is_refused(tmp_path):
    # A path beneath a regular file cannot be created, whoever runs the test (root included).
    (tmp_path / "file").write_text("x")
    settings = Settings.from_env({"EAKTE_DATA_DIR": str(tmp_path / "file" / "data")})
    with pytest.raises(DataDirError, match=r"EAKTE_DATA_DIR: .* is not writable"):
        settings.ensure_data_dir()


def test_generated_secret_key_is_kept_private(tmp_path):
    settings = Settings.from_env({"EAKTE_DATA_DIR": str(tmp_path)})
    key = settings.resolved_secret_key()
    assert key == settings.resolved_secret_key()
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_secrets_not_in_repr():
    settings = Settings.from_env(
        {"EAKTE_S3_ENDPOINT": "h:1", "EAKTE_S3_ACCESS_KEY": "AK", "EAKTE_S3_SECRET_KEY": "SK-xyz"}
    )
    assert "SK-xyz" not in repr(settings)
