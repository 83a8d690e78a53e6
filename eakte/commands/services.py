"""``eakte object-store`` and ``eakte install-service``: running as system services (issue 26)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from eakte.commands.common import load_settings
from eakte.errors import ConfigError
from eakte.services.service_units import SHIPPED_BACKUP_DIR, InstallPlan, install


@click.command("object-store")
def object_store() -> None:
    """Run the embedded object store (SeaweedFS, S3 with Object Lock on 127.0.0.1) until
    stopped, for eakte serve and the workers to attach to (eakte-objectstore.service).

    Exits non-zero if the store ends on its own, so that systemd restarts it.
    """
    from storage.embedded import EmbeddedSeaweedFS

    settings = load_settings()
    if not settings.s3.embedded:
        raise ConfigError("EAKTE_S3_ENDPOINT is set: this installation uses an external store")
    settings.ensure_data_dir()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = EmbeddedSeaweedFS(settings.data_dir).start()
    click.echo(f"object store listens on {server.endpoint} (data in {settings.data_dir})")
    try:
        while not stop.wait(2):
            if not server.running:
                click.echo("eakte: error: the object store ended on its own", err=True)
                sys.exit(1)
    finally:
        server.stop()


@click.command("install-service")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/"),
    show_default=True,
    help="Install beneath this directory instead of / (an image, a test).",
)
@click.option("--dry-run", is_flag=True, help="Only say what would be done.")
@click.option("--user", default="eakte", show_default=True, help="The system user to run as.")
@click.option(
    "--backup-dir",
    default=SHIPPED_BACKUP_DIR,
    show_default=True,
    help="Where the nightly backup (eakte-backup.timer) writes.",
)
def install_service(root: Path, dry_run: bool, user: str, backup_dir: str) -> None:
    """Install eAkte as systemd services on this server and say what was done.

    Creates the system user, /var/lib/eakte (0700), the backup folder (0700),
    /etc/eakte/eakte.env (0600, only if absent) and the units from deploy/systemd with this
    Python in their ExecStart: eakte-web, eakte-worker@N (N worker processes),
    eakte-objectstore (the embedded store, unless EAKTE_S3_ENDPOINT is set), eakte-backup and
    its nightly timer, eakte.target. Enabling them is left to you (the command is printed).
    """
    settings = load_settings()
    plan = InstallPlan(
        root=root,
        user=user,
        backup_dir=backup_dir,
        embedded_store=settings.s3.embedded,
        dry_run=dry_run,
    )
    for line in install(plan):
        click.echo(line)


COMMANDS: list[click.Command] = [object_store, install_service]
