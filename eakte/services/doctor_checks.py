"""``eakte doctor``: is this installation sound? Each check names what it found and its fix.

The checks of what the installation keeps (files, bucket, database, the nightly runs); the
host's clock and what a browser sees through the proxy are in
:mod:`eakte.services.doctor_host`. A check that cannot run (the database does not answer)
is a problem too, named as such: "all is well" is said only of what was looked at.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from eakte import schema
from eakte.config import SECRET_KEY_FILE, Settings, config_file_path
from eakte.models import StoredObject, User
from eakte.private_files import loose_paths
from eakte.services import ops_log
from eakte.services.accounts import DEFAULT_TENANT
from eakte.verify import load_report
from storage.blobstore import BlobStore
from storage.errors import StorageError

Status = Literal["ok", "problem", "note"]

BACKUP_MAX_AGE = timedelta(hours=36)  # nightly, with a night's slack
FIXITY_MAX_AGE = timedelta(hours=36)  # the worker runs it every night
GROWTH_WINDOW = timedelta(days=30)  # the growth rate is that of the last 30 days ...
HEADROOM = timedelta(days=90)  # ... and the disk must hold 90 more days of it
MIN_FREE = 1024**3  # and at least 1 GiB, whatever the rate (index, spool, previews)
_SECRET_FILES = (SECRET_KEY_FILE, "s3-credentials.json")
_SECRET_NAMES = ("SECRET", "PASSWORD", "ACCESS_KEY", "DATABASE_URL", "REDIS_URL")


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str
    fix: str = ""


def ok(check: str, detail: str) -> Finding:
    return Finding(check, "ok", detail)


def problem(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, "problem", detail, fix)


def note(check: str, detail: str) -> Finding:
    return Finding(check, "note", detail)


# ----------------------------------------------------------------------------- files


def data_dir_private(settings: Settings) -> Finding:
    path = settings.data_dir
    if not path.is_dir():
        return problem("data dir", f"{path} does not exist", "run: eakte init")
    info = path.stat()
    if info.st_uid != os.geteuid():
        return problem(
            "data dir",
            f"{path} belongs to uid {info.st_uid}, not to this user (uid {os.geteuid()})",
            f"run eakte as the service user (sudo -u eakte eakte doctor) or chown -R eakte: {path}",
        )
    loose = list(loose_paths(path))
    if loose:
        shown = "; ".join(item.describe() for item in loose[:3])
        more = f" and {len(loose) - 3} more" if len(loose) > 3 else ""
        return problem(
            "data dir",
            f"{len(loose)} path(s) other users may access: {shown}{more}",
            f"run: eakte init (makes it private again) or chmod -R go-rwx {path}",
        )
    return ok("data dir", f"{path} is private (0700, nothing readable by others)")


def secret_files(settings: Settings, environ: Mapping[str, str]) -> list[Finding]:
    found = []
    config = config_file_path(environ)
    if config.exists():
        mode = stat.S_IMODE(config.stat().st_mode)
        if mode & 0o077 and _holds_secrets(config):
            found.append(
                problem(
                    "config file",
                    f"{config} holds secrets and is mode {mode:04o}",
                    f"run: chmod 600 {config}",
                )
            )
        else:
            found.append(ok("config file", f"{config} mode {mode:04o}"))
    else:
        found.append(note("config file", f"{config} absent: settings come from the environment"))
    for name in _SECRET_FILES:
        path = settings.data_dir / name
        if not path.exists():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            found.append(
                problem("secret file", f"{path} is mode {mode:04o}", f"run: chmod 600 {path}")
            )
        else:
            found.append(ok("secret file", f"{path} mode {mode:04o}"))
    if environ.get("EAKTE_ADMIN_PASSWORD"):
        found.append(
            problem(
                "secret file",
                "EAKTE_ADMIN_PASSWORD is still set (it is needed only by the first eakte init)",
                f"remove it from {config} and from the service's environment",
            )
        )
    return found


def _holds_secrets(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True  # cannot tell: assume it does
    return any(name in text for name in _SECRET_NAMES)


# ------------------------------------------------------------------------- database


def schema_current(engine: Engine) -> Finding:
    current, head = schema.current_revision(engine), schema.head_revision()
    if current != head:
        return problem(
            "database",
            f"schema {current or 'none'}, this version needs {head}",
            "run: eakte init (back up first: eakte backup DIR)",
        )
    return ok("database", f"schema {head} (up to date)")


def first_admin_password(session: Session) -> Finding:
    from eakte.models import Tenant

    admin = session.scalar(
        select(User)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(Tenant.slug == DEFAULT_TENANT, User.username == "admin")
    )
    if admin is None or not admin.active:
        return ok("first admin", "the first admin account is gone or disabled")
    if admin.password_changed_at is None and not admin.must_change_password:
        return problem(
            "first admin",
            "user 'admin' still has the password eakte init gave it (never changed)",
            "sign in as admin and change it (Konto → Passwort ändern)",
        )
    return ok("first admin", "user 'admin' has changed the initial password")


def disk_space(settings: Settings, session: Session, now: datetime | None = None) -> Finding:
    now = now or datetime.now(UTC)
    since = now - GROWTH_WINDOW
    recent = session.scalar(
        select(func.coalesce(func.sum(StoredObject.size), 0)).where(
            StoredObject.created_at >= since
        )
    )
    per_day = int(recent or 0) / GROWTH_WINDOW.days
    # With the embedded store the objects are in the data dir; an external store has its own
    # disks, and only the index, previews and spool grow here (about a tenth, measured).
    local_per_day = per_day if settings.s3.embedded else per_day / 10
    needed = max(MIN_FREE, int(local_per_day * HEADROOM.days))
    free = shutil.disk_usage(settings.data_dir).free
    detail = (
        f"{_size(free)} free for {settings.data_dir}; stored in the last {GROWTH_WINDOW.days} "
        f"days: {_size(int(recent or 0))} ({_size(int(per_day))}/day)"
    )
    if free < needed:
        return problem(
            "disk",
            f"{detail}: less than {HEADROOM.days} days of growth ({_size(needed)})",
            f"grow the file system of {settings.data_dir} or move EAKTE_DATA_DIR",
        )
    return ok("disk", f"{detail}; {HEADROOM.days} days need {_size(needed)}")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


# --------------------------------------------------------------------------- bucket


def bucket_locks(store: BlobStore, session: Session) -> list[Finding]:
    state = store.lock_configuration()
    found = []
    if state.versioning != "Enabled" or not state.object_lock:
        missing = [
            what
            for what, bad in (
                ("versioning", state.versioning != "Enabled"),
                ("Object Lock", not state.object_lock),
            )
            if bad
        ]
        found.append(
            problem(
                "bucket",
                f"bucket {store.bucket!r} lacks {' and '.join(missing)}",
                "Object Lock cannot be added later: create a new bucket with it "
                "(eakte init does), restore a backup into it (eakte restore)",
            )
        )
        return found
    if state.default_mode == "GOVERNANCE":
        found.append(
            problem(
                "bucket",
                f"default retention GOVERNANCE {state.default_period}: "
                "a privileged S3 user can lift it",
                "set the bucket's default retention to COMPLIANCE or remove the default rule",
            )
        )
    else:
        default = (
            f"default {state.default_mode} {state.default_period}"
            if state.default_mode
            else "no default rule (eAkte locks each version COMPLIANCE itself)"
        )
        found.append(ok("bucket", f"{store.bucket!r}: versioning on, Object Lock on, {default}"))
    newest = session.scalars(select(StoredObject).order_by(StoredObject.id.desc()).limit(1)).first()
    if newest is not None:
        try:
            info = store.get_retention(newest.key, newest.version_id)
        except StorageError as exc:
            found.append(
                problem(
                    "bucket",
                    f"the newest stored version ({newest.key}) cannot be read: {exc}",
                    "run: eakte verify (it lists every missing or damaged object)",
                )
            )
            return found
        now = datetime.now(UTC)
        if info is None or info.mode != "COMPLIANCE" or info.retain_until <= now:
            found.append(
                problem(
                    "bucket",
                    f"the newest stored version ({newest.key}) is not COMPLIANCE-locked "
                    f"into the future ({info.mode if info else 'no retention'})",
                    "check the S3 server's Object Lock support; run: eakte verify",
                )
            )
        else:
            found.append(
                ok("bucket", f"newest version locked COMPLIANCE until {info.retain_until:%Y-%m-%d}")
            )
    return found


# --------------------------------------------------------------------- nightly runs


def last_backup(settings: Settings, now: datetime | None = None) -> Finding:
    record = ops_log.last_backup(settings.data_dir)
    fix = "enable the nightly backup: systemctl enable --now eakte-backup.timer"
    if record is None:
        return problem("backup", "no backup has been made (eakte backup leaves a record)", fix)
    when = datetime.fromisoformat(record["finished_at"])
    age = (now or datetime.now(UTC)) - when
    if not record.get("ok"):
        return problem(
            "backup",
            f"the last backup, {_ago(age)}, failed: {record.get('detail', '')}",
            "see journalctl -u eakte-backup.service; run eakte backup by hand",
        )
    if age > BACKUP_MAX_AGE:
        return problem("backup", f"the last backup is {_ago(age)} old ({record['dest']})", fix)
    return ok("backup", f"last backup {_ago(age)} ago into {record['dest']}, succeeded")


def last_fixity(settings: Settings, now: datetime | None = None) -> Finding:
    report = load_report(settings.data_dir)
    fix = "start a worker (systemctl enable --now eakte-worker@1) or run: eakte verify"
    if report is None:
        return problem("fixity", "no fixity check has run yet", fix)
    age = (now or datetime.now(UTC)) - datetime.fromisoformat(report["finished_at"])
    if not report["clean"]:
        return problem(
            "fixity",
            f"the last fixity check, {_ago(age)} ago, found {len(report['findings'])} problem(s)",
            "run eakte verify to see them; restore damaged objects from the backup",
        )
    if age > FIXITY_MAX_AGE:
        return problem("fixity", f"the last fixity check is {_ago(age)} old", fix)
    checked = ", ".join(f"{n} {what}" for what, n in report["checked"].items())
    return ok("fixity", f"last fixity check {_ago(age)} ago, clean ({checked})")


def _ago(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.0f} days"
