"""Settings from ``EAKTE_*`` environment variables, with defaults that need no set-up.

``Settings.from_env()`` validates every value and raises ``ConfigError`` naming the variable and
what is wrong; the CLI prints that one line and exits non-zero.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from eakte.directory import settings as directory_settings
from eakte.errors import ConfigError, DataDirError
from eakte.ingest.office_types import OFFICE_TYPES
from eakte.private_files import DIR_MODE, make_private_dir, use_private_umask
from eakte.references import DEFAULT_PATTERN, validate_pattern

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
# The configuration file of an installed service (issue 26): KEY=VALUE lines as systemd's
# EnvironmentFile= reads them; variables set in the environment win over it.
CONFIG_FILE = Path("/etc/eakte/eakte.env")
# Ingest (issue 4): the types the pipeline can process; the allow-list may narrow them.
# Office documents and text (issue 25) are converted to PDF/A by LibreOffice; XML that is an
# e-invoice (XRechnung) is read as one.
INGEST_TYPES = ("application/pdf", "image/tiff", "image/jpeg", "image/png", *OFFICE_TYPES)
# Mail files (issue 25): the message a document, each attachment one of its own.
INGEST_TYPES += ("message/rfc822", "application/vnd.ms-outlook")


@dataclass(frozen=True)
class S3Settings:
    """Where objects go. ``endpoint`` empty means: run the embedded SeaweedFS."""

    endpoint: str = ""
    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    bucket: str = "eakte"
    secure: bool = False
    region: str | None = None

    @property
    def embedded(self) -> bool:
        return not self.endpoint


@dataclass(frozen=True)
class SmtpSettings:
    """Mail for the clerk's notices (issue 16); no host: off (the default)."""

    host: str = ""
    port: int = 25
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = "eakte@localhost"
    starttls: bool = False
    base_url: str = "http://127.0.0.1:8000"  # where the links in mails lead

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    s3: S3Settings
    redis_url: str = ""
    secret_key: str = field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    web_threads: int = 8
    workers: int = 1
    max_upload_mb: int = 200
    log_level: str = "INFO"
    log_format: str = "text"
    secure_cookies: bool = False
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses, networks).
    trusted_proxies: tuple[str, ...] = ()
    file_reference_pattern: str = DEFAULT_PATTERN
    ingest_allowed_types: tuple[str, ...] = INGEST_TYPES
    ingest_max_pages: int = 2000
    ingest_text_at_intake_pages: int = 50
    ingest_max_pixels: int = 150_000_000
    ingest_max_decoded_mb: int = 2048
    ingest_job_memory_mb: int = 2048
    ingest_page_cpu_seconds: int = 60
    # One LibreOffice conversion: wall-clock seconds and address space (issue 25).
    ingest_office_seconds: int = 120
    ingest_office_memory_mb: int = 2048
    # Barcodes on scanned stacks (issue 17): cover sheets and separator sheets, read on no page,
    # the first page only (cover sheets), or every page (separators too), at this resolution.
    barcode_pages: str = "every"
    barcode_dpi: int = 100
    barcode_separator: str = "PATCHT"
    hot_folder_interval: int = 5
    # Signed PDFs (issue 25): roots whose signatures count as trusted (PEM/DER files; those in
    # its ``qualified/`` folder mark qualified anchors). None: nothing is trusted.
    signature_trust_dir: Path | None = None
    # Full-text search: the embedded Whoosh index, or PostgreSQL's own (several web hosts).
    search_backend: str = "whoosh"
    # Audit anchors (issue 13): how long each is locked, and an optional RFC 3161 TSA.
    audit_anchor_years: int = 30
    tsa_url: str = ""
    tsa_ca_file: Path | None = None
    # The COMPLIANCE floor of every stored version (issue 13): at least a day from the
    # environment; only code (the tests) can set less, never to nothing.
    min_retention: timedelta = timedelta(days=365)
    # Directory sign-in (issue 19): EAKTE_LDAP_*; a tenant's own settings are in the database.
    ldap: directory_settings.LdapSettings = field(default_factory=directory_settings.LdapSettings)
    # Who needs a second factor (TOTP): from the environment "privileged" unless set; only code
    # (the tests) gets "off" without saying so.
    second_factor: str = "off"
    smtp: SmtpSettings = SmtpSettings()
    # Tests and demos only: the workflow's "now" read from this file (ISO date or date-time;
    # absent or empty file: the real clock), so a browser journey can let a day pass.
    workflow_clock_file: Path | None = None

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = _Env(environment_with_config_file(os.environ) if environ is None else environ)
        data_dir = Path(env.text("EAKTE_DATA_DIR", str(_default_data_dir()))).expanduser()
        s3 = S3Settings(
            endpoint=env.text("EAKTE_S3_ENDPOINT", ""),
            access_key=env.text("EAKTE_S3_ACCESS_KEY", ""),
            secret_key=env.text("EAKTE_S3_SECRET_KEY", ""),
            bucket=env.bucket("EAKTE_S3_BUCKET", "eakte"),
            secure=env.boolean("EAKTE_S3_SECURE", False),
            region=env.text("EAKTE_S3_REGION", "") or None,
        )
        if s3.endpoint and not (s3.access_key and s3.secret_key):
            raise ConfigError(
                "EAKTE_S3_ACCESS_KEY and EAKTE_S3_SECRET_KEY: "
                "required when EAKTE_S3_ENDPOINT is set"
            )
        database_url = env.database_url("EAKTE_DATABASE_URL", f"sqlite:///{data_dir / 'eakte.db'}")
        search_backend = env.choice("EAKTE_SEARCH_BACKEND", "whoosh", ("whoosh", "postgresql"))
        if search_backend == "postgresql" and not database_url.startswith("postgresql"):
            raise ConfigError(
                "EAKTE_SEARCH_BACKEND: postgresql needs a PostgreSQL EAKTE_DATABASE_URL"
            )
        tsa_url = env.text("EAKTE_TSA_URL", "")
        tsa_ca_file = env.text("EAKTE_TSA_CA_FILE", "")
        if tsa_url and urlsplit(tsa_url).scheme not in ("http", "https"):
            raise ConfigError(f"EAKTE_TSA_URL: expected an http(s):// URL, got {tsa_url!r}")
        if tsa_url and not tsa_ca_file:
            raise ConfigError(
                "EAKTE_TSA_CA_FILE: required when EAKTE_TSA_URL is set (the certificate that "
                "timestamps are checked against)"
            )
        if tsa_ca_file and not Path(tsa_ca_file).is_file():
            raise ConfigError(f"EAKTE_TSA_CA_FILE: {tsa_ca_file} is not a readable file")
        clock_file = env.text("EAKTE_WORKFLOW_CLOCK_FILE", "")
        trust_dir = env.text("EAKTE_SIGNATURE_TRUST_DIR", "")
        if trust_dir and not Path(trust_dir).is_dir():
            raise ConfigError(f"EAKTE_SIGNATURE_TRUST_DIR: {trust_dir} is not a folder")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            s3=s3,
            redis_url=env.redis_url("EAKTE_REDIS_URL", ""),
            secret_key=env.text("EAKTE_SECRET_KEY", ""),
            host=env.text("EAKTE_HOST", "127.0.0.1"),
            port=env.integer("EAKTE_PORT", 8000, 1, 65535),
            web_threads=env.integer("EAKTE_WEB_THREADS", 8, 1, 256),
            workers=env.integer("EAKTE_WORKERS", 1, 0, 64),
            max_upload_mb=env.integer("EAKTE_MAX_UPLOAD_MB", 200, 1, 100_000),
            log_level=env.choice(
                "EAKTE_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"), upper=True
            ),
            log_format=env.choice("EAKTE_LOG_FORMAT", "text", ("text", "json")),
            secure_cookies=env.boolean("EAKTE_SECURE_COOKIES", False),
            trusted_proxies=env.networks("EAKTE_TRUSTED_PROXIES"),
            file_reference_pattern=validate_pattern(
                env.text("EAKTE_FILE_REFERENCE_PATTERN", DEFAULT_PATTERN)
            ),
            ingest_allowed_types=env.subset("EAKTE_INGEST_ALLOWED_TYPES", INGEST_TYPES),
            ingest_max_pages=env.integer("EAKTE_INGEST_MAX_PAGES", 2000, 1, 100_000),
            ingest_text_at_intake_pages=env.integer(
                "EAKTE_INGEST_TEXT_AT_INTAKE_PAGES", 50, 0, 100_000
            ),
            ingest_max_pixels=env.integer(
                "EAKTE_INGEST_MAX_PIXELS", 150_000_000, 1_000_000, 2_000_000_000
            ),
            ingest_max_decoded_mb=env.integer("EAKTE_INGEST_MAX_DECODED_MB", 2048, 16, 1_000_000),
            ingest_job_memory_mb=env.integer("EAKTE_INGEST_JOB_MEMORY_MB", 2048, 256, 1_000_000),
            ingest_page_cpu_seconds=env.integer("EAKTE_INGEST_PAGE_CPU_SECONDS", 60, 5, 3600),
            ingest_office_seconds=env.integer("EAKTE_INGEST_OFFICE_SECONDS", 120, 5, 3600),
            ingest_office_memory_mb=env.integer(
                "EAKTE_INGEST_OFFICE_MEMORY_MB", 2048, 256, 1_000_000
            ),
            barcode_pages=env.choice("EAKTE_BARCODE_PAGES", "every", ("off", "first", "every")),
            barcode_dpi=env.integer("EAKTE_BARCODE_DPI", 100, 50, 600),
            barcode_separator=env.text("EAKTE_BARCODE_SEPARATOR", "PATCHT")[:200],
            hot_folder_interval=env.integer("EAKTE_HOT_FOLDER_INTERVAL", 5, 1, 3600),
            signature_trust_dir=Path(trust_dir) if trust_dir else None,
            search_backend=search_backend,
            audit_anchor_years=env.integer("EAKTE_AUDIT_ANCHOR_YEARS", 30, 1, 100),
            tsa_url=tsa_url,
            tsa_ca_file=Path(tsa_ca_file) if tsa_ca_file else None,
            min_retention=timedelta(days=env.integer("EAKTE_MIN_RETENTION_DAYS", 365, 1, 36500)),
            ldap=directory_settings.from_env(env.environ),
            second_factor=directory_settings.second_factor_from_env(env.environ),
            workflow_clock_file=Path(clock_file) if clock_file else None,
            smtp=SmtpSettings(
                host=env.text("EAKTE_SMTP_HOST", ""),
                port=env.integer("EAKTE_SMTP_PORT", 25, 1, 65535),
                user=env.text("EAKTE_SMTP_USER", ""),
                password=env.text("EAKTE_SMTP_PASSWORD", ""),
                sender=env.text("EAKTE_SMTP_FROM", "eakte@localhost"),
                starttls=env.boolean("EAKTE_SMTP_STARTTLS", False),
                base_url=env.text("EAKTE_SMTP_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            ),
        )

    def ensure_data_dir(self) -> Path:
        """Create the data dir if absent (private: 0700) and prove it is writable.

        Sets the process umask so that everything created from here on, by this process and
        its children, is private to the service user (issue 13, finding 6).
        """
        path = self.data_dir
        if path.exists() and not path.is_dir():
            raise DataDirError(f"EAKTE_DATA_DIR: {path} exists and is not a directory")
        use_private_umask()
        try:
            path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            make_private_dir(path)  # one the operator made beforehand is usually 0755
            probe = path / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise DataDirError(
                f"EAKTE_DATA_DIR: {path} is not writable ({exc.strerror or exc})"
            ) from exc
        return path

    def spool_dir(self) -> Path:
        """Working files of intake and processing (created if absent)."""
        path = self.data_dir / "spool"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def resolved_secret_key(self) -> str:
        """The configured key, else one generated once and kept in the data dir (mode 0600)."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / SECRET_KEY_FILE
        if key_file.exists():
            return key_file.read_text().strip()
        key = secrets.token_urlsafe(48)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


def config_file_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("EAKTE_CONFIG_FILE") or CONFIG_FILE)


def environment_with_config_file(environ: Mapping[str, str]) -> dict[str, str]:
    """The configuration file's EAKTE_* values overlaid by the environment's."""
    path = config_file_path(environ)
    values = read_config_file(path) if path.exists() else {}
    values.update(environ)
    return values


def read_config_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments, optional quotes, ``export`` allowed); only EAKTE_*
    keys count. Refused when other users may read it: it holds the secrets."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if mode & 0o007:
        raise ConfigError(
            f"{path}: other users may read it and it holds secrets "
            f"(mode {mode & 0o777:04o}; run: chmod 600 {path})"
        )
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.isidentifier():
            raise ConfigError(f"{path}, line {number}: expected KEY=VALUE")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key.startswith("EAKTE_"):
            values[key] = value
    return values


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "eakte"


class _Env:
    """Typed reads of environment variables; every failure names the variable."""

    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ

    @property
    def environ(self) -> Mapping[str, str]:
        return self._environ

    def text(self, name: str, default: str) -> str:
        value = self._environ.get(name)
        return default if value is None or value.strip() == "" else value.strip()

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.text(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{name}: must be between {low} and {high}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.text(name, "1" if default else "0").lower()
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: expected true or false, got {raw!r}")

    def choice(self, name: str, default: str, allowed: tuple[str, ...], upper=False) -> str:
        raw = self.text(name, default)
        value = raw.upper() if upper else raw.lower()
        if value not in allowed:
            raise ConfigError(f"{name}: expected one of {', '.join(allowed)}, got {raw!r}")
        return value

    def bucket(self, name: str, default: str) -> str:
        value = self.text(name, default)
        ok = 3 <= len(value) <= 63 and all(c.islower() or c.isdigit() or c in "-." for c in value)
        if not ok or not value[0].isalnum() or not value[-1].isalnum():
            raise ConfigError(
                f"{name}: {value!r} is not a valid bucket name "
                "(3-63 characters: lower-case letters, digits, '-' and '.')"
            )
        return value

    def database_url(self, name: str, default: str) -> str:
        value = self.text(name, default)
        scheme = value.split(":", 1)[0]
        if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            # psycopg 3 is the driver; plain postgresql:// URLs are accepted for convenience.
            return "postgresql+psycopg:" + value.split(":", 1)[1]
        if scheme == "sqlite":
            return value
        raise ConfigError(
            f"{name}: unsupported database {scheme!r} (use sqlite:///PATH or postgresql://...)"
        )

    def subset(self, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        """A comma-separated list whose items must all be in ``allowed`` (default: all)."""
        items = [v.strip().lower() for v in self.text(name, ",".join(allowed)).split(",")]
        unknown = [v for v in items if v and v not in allowed]
        if unknown or not any(items):
            raise ConfigError(
                f"{name}: expected a comma-separated list of {', '.join(allowed)}, "
                f"got {', '.join(unknown) or 'nothing'}"
            )
        return tuple(dict.fromkeys(v for v in items if v))

    def networks(self, name: str) -> tuple[str, ...]:
        """A comma-separated list of IP addresses or networks (CIDR), normalised."""
        found = []
        for item in filter(None, (v.strip() for v in self.text(name, "").split(","))):
            try:
                found.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ConfigError(
                    f"{name}: {item!r} is not an IP address or network (e.g. 10.0.0.0/8)"
                ) from None
        return tuple(found)

    def redis_url(self, name: str, default: str) -> str:
        value = self.text(name, default)
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(f"{name}: expected a redis:// URL, got {value!r}")
        return value
