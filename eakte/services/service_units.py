"""``eakte install-service``: eAkte as systemd services on one Debian server (issue 26).

Installs what ``deploy/`` holds: the units (web, worker template, embedded object store,
nightly backup and its timer, eakte.target) with this installation's Python in their
``ExecStart``, ``/etc/eakte/eakte.env`` (0600, only when absent: an operator's file is never
overwritten), the data dir ``/var/lib/eakte`` and the backup folder (0700), and the system user
``eakte``. Every step is reported; ``--root`` writes beneath another directory (a test, an
image being built) and ``--dry-run`` only says what it would do.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy"
UNITS = (
    "eakte.target",
    "eakte-web.service",
    "eakte-worker@.service",
    "eakte-objectstore.service",
    "eakte-backup.service",
    "eakte-backup.timer",
)
SHIPPED_PYTHON = "/opt/eakte/.venv/bin/python"  # what the files in deploy/systemd name
SHIPPED_BACKUP_DIR = "/var/backups/eakte"
DATA_DIR = "/var/lib/eakte"


@dataclass
class InstallPlan:
    root: Path = Path("/")
    user: str = "eakte"
    python: str = sys.executable
    backup_dir: str = SHIPPED_BACKUP_DIR
    embedded_store: bool = True
    dry_run: bool = False
    done: list[str] = field(default_factory=list)

    def at(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def say(self, what: str) -> None:
        self.done.append(f"{'would ' if self.dry_run else ''}{what}")


def install(plan: InstallPlan) -> list[str]:
    source = DEPLOY_DIR / "systemd"
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: run eakte install-service from a clone of eAkte")
    _system_user(plan)
    _private_dir(plan, DATA_DIR, "data dir")
    _private_dir(plan, plan.backup_dir, "backup folder")
    _config(plan)
    for name in UNITS:
        text = (source / name).read_text()
        text = text.replace(SHIPPED_PYTHON, plan.python)
        text = text.replace(SHIPPED_BACKUP_DIR, plan.backup_dir)
        target = plan.at("/etc/systemd/system") / name
        if not plan.dry_run:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            target.chmod(0o644)
        plan.say(f"write {target}")
    _activate(plan)
    return plan.done


def _system_user(plan: InstallPlan) -> None:
    if _user_exists(plan.user):
        plan.say(f"keep system user {plan.user!r} (exists)")
        return
    command = [
        "useradd", "--system", "--user-group", "--home-dir", DATA_DIR,
        "--shell", "/usr/sbin/nologin", "--comment", "eAkte", plan.user,
    ]  # fmt: skip
    if plan.root != Path("/"):
        command[1:1] = ["--root", str(plan.root)]
        if not (plan.root / "etc" / "passwd").exists():
            plan.done.append(f"skip system user {plan.user!r}: no {plan.root}/etc/passwd")
            return
    if not plan.dry_run:
        subprocess.run(command, check=True, capture_output=True)
    plan.say(f"create system user {plan.user!r}: {' '.join(command)}")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _chown(plan: InstallPlan, path: Path) -> str:
    """Owner the service user where it exists here (not beneath another --root)."""
    if plan.root != Path("/") or not _user_exists(plan.user) or os.geteuid() != 0:
        return ""
    if not plan.dry_run:
        shutil.chown(path, plan.user, grp.getgrgid(pwd.getpwnam(plan.user).pw_gid).gr_name)
    return f", owner {plan.user}"


def _private_dir(plan: InstallPlan, path: str, what: str) -> None:
    target = plan.at(path)
    if not plan.dry_run:
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(0o700)
    plan.say(f"make {what} {target} (0700{_chown(plan, target)})")


def _config(plan: InstallPlan) -> None:
    target = plan.at("/etc/eakte/eakte.env")
    if target.exists():
        plan.say(f"keep {target} (exists; compare with {DEPLOY_DIR / 'eakte.env.example'})")
        return
    if not plan.dry_run:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.parent.chmod(0o755)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write((DEPLOY_DIR / "eakte.env.example").read_text())
    plan.say(f"write {target} (0600{_chown(plan, target)}) from eakte.env.example")


def _activate(plan: InstallPlan) -> None:
    units = ["eakte.target", "eakte-backup.timer"]
    if plan.embedded_store:
        units.insert(0, "eakte-objectstore.service")
    enable = f"systemctl enable --now {' '.join(units)}"
    live = plan.root == Path("/") and Path("/run/systemd/system").is_dir()
    if live:
        if not plan.dry_run:
            subprocess.run(["systemctl", "daemon-reload"], check=True)
        plan.say("run systemctl daemon-reload")
    init = f"sudo -u {plan.user} {plan.python} -m eakte init"
    plan.done.append(f"next: edit {plan.at('/etc/eakte/eakte.env')}, then {init}")
    plan.done.append(f"next: {enable}")
    plan.done.append("next: put nginx in front (deploy/nginx/eakte.conf); check: eakte doctor")
