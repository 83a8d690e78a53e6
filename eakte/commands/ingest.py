"""``eakte import``, ``eakte watch`` and ``eakte recover`` (issue 4); the scanning desk's
commands are in :mod:`eakte.commands.scanning`."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from eakte.commands.common import (
    acting_user,
    jobs_option,
    load_settings,
    tenant_option,
    user_option,
)
from eakte.config import Settings
from eakte.errors import DatabaseUnavailable, ExitCode
from eakte.ingest import keys
from eakte.ingest.hotfolder import HotFolder
from eakte.ingest.manifest import ManifestRow, read_manifest
from eakte.ingest.names import readable
from eakte.ingest.walk import Entry, walk
from eakte.models import User
from eakte.runtime import Runtime, open_runtime
from eakte.services import scan_split, scanning
from eakte.services.intake import DocumentMetadata, Enqueue, IncomingFile, Outcome, Target
from storage.errors import StorageUnavailable

# Failures that stop an import or a hot-folder round: every further file would fail the same
# way. Nothing is lost; running the command again continues where it stopped.
STOPPING = (StorageUnavailable, DatabaseUnavailable, OperationalError)


def batch_options(fn):
    """R15: what the scan batch records."""
    for option in reversed(
        [
            click.option(
                "--batch", "batch_name", help="Scan batch name (default: from the folder and date)."
            ),
            click.option("--operator", default="", help="Who scanned (default: the acting user)."),
            click.option("--device", default="", help="Scanner model or name."),
            click.option("--dpi", type=click.IntRange(50, 2400), help="Scan resolution."),
            click.option(
                "--colour-mode",
                type=click.Choice(["bw", "gray", "color"]),
                default=None,
                help="Scan colour mode.",
            ),
            click.option(
                "--org-unit",
                help="Org unit (code) whose inbox receives the documents (default: the user's).",
            ),
        ]
    ):
        fn = option(fn)
    return fn


# ---------------------------------------------------------------------------------- import


@dataclass
class Summary:
    counts: Counter = field(default_factory=Counter)
    quarantined: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    failed: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, relative: str, result) -> None:
        relative = readable(os.fsencode(relative))  # names on disk need not be UTF-8
        with self.lock:
            self.counts[result.outcome] += 1
            if result.outcome == Outcome.quarantined:
                self.quarantined[str(result.reason_code)].append((relative, result.reason))

    def fail(self, relative: str, message: str) -> None:
        relative = readable(os.fsencode(relative))
        with self.lock:
            self.failed.append((relative, message))


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(
            f"{speed:6.1f} docs/s" if speed else "   ... docs/s", style="progress.data.speed"
        )


@click.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV mapping files to file references, titles, dates and document types.",
)
@batch_options
@jobs_option
@tenant_option
@user_option(default=None, who="a scanner or a clerk (administrators may not ingest)")
def import_command(
    directory,
    manifest,
    batch_name,
    operator,
    device,
    dpi,
    colour_mode,
    org_unit,
    jobs,
    tenant,
    username,
):
    """Import every file under DIRECTORY (recursively): a bulk import of scanned paper
    archives, or of any PDF, TIFF, JPEG and PNG files.

    Files are stored and registered, then processed (text, OCR, PDF/A) by `eakte worker`.
    Running the command again skips what is already in, so an interrupted import simply
    continues. The same content twice is reported as a duplicate and linked; unusable files
    go to quarantine with their reason. With --manifest (columns file, file_reference, title,
    date, doc_type; optional correspondent, process) files are filed into cases; the manifest
    is checked first and nothing is imported while it has problems. The documents form a
    scan batch (--batch, --operator, --device, --dpi, --colour-mode).
    """
    settings = load_settings()
    directory = directory.absolute()
    with open_runtime(settings) as rt:
        rt.store.check_bucket()
        with rt.session() as session:
            actor = acting_user(session, tenant, username)
            entries = list(walk(directory, protected=[settings.data_dir]))
            rows = {}
            if manifest is not None:
                found = {e.relative for e in entries if e.problem is None}
                rows = read_manifest(session, actor, manifest.read_bytes(), found)
            entries = [
                e for e in entries if manifest is None or e.path.absolute() != manifest.absolute()
            ]
            batch = scanning.open_batch(
                session,
                actor,
                batch_name or f"import {directory.name} {datetime.now():%Y-%m-%d}",
                operator=operator,
                device=device,
                dpi=dpi,
                colour_mode=colour_mode or "",
                org_unit=org_unit,
            )
        importer = Importer(
            rt, settings, actor, batch.id, Target(org_unit=org_unit), rows, rt.jobs.enqueue
        )
        summary = importer.run(entries, jobs)
    print_summary(summary, batch.name, len(entries))
    if summary.failed:
        click.echo(
            f"eakte: {len(summary.failed)} file(s) failed; run the import again to retry them",
            err=True,
        )
        raise SystemExit(ExitCode.failure)


class Importer:
    def __init__(
        self,
        rt: Runtime,
        settings: Settings,
        actor: User,
        batch_id: int | None,
        target: Target,
        rows: dict[str, ManifestRow],
        enqueue: Enqueue,
    ):
        self.rt, self.settings, self.actor, self.batch_id = rt, settings, actor, batch_id
        self.target, self.rows, self.enqueue = target, rows, enqueue
        self.local = threading.local()
        self.sessions: list[Session] = []
        self.summary = Summary()

    def _session(self) -> Session:
        if not hasattr(self.local, "session"):
            self.local.session = self.rt.session()
            self.sessions.append(self.local.session)
        return self.local.session

    def take(self, entry: Entry) -> None:
        row: ManifestRow | None = self.rows.get(entry.relative)
        target = Target(process=row.process_id) if row and row.process_id else self.target
        result = scan_split.intake_scan(  # separator and cover sheets (issue 17)
            self._session(),
            self.actor,
            self.rt.store,
            IncomingFile(
                entry.path,
                os.fsencode(entry.path.name),
                metadata=row.metadata if row else DocumentMetadata(),
                target=target,
                method="import",
                source=str(entry.path),
                source_key=keys.path_source_key(
                    "import", os.fsencode(entry.path), entry.size, entry.mtime_ns
                ),
                scan_batch_id=self.batch_id,
                problem=entry.problem,
            ),
            settings=self.settings,
            enqueue=self.enqueue,
        )
        self.summary.add(entry.relative, result)

    def run(self, entries: list[Entry], jobs: int) -> Summary:
        console = Console(stderr=True)
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
        )
        stop: BaseException | None = None
        with (
            Progress(*columns, console=console, transient=False) as progress,
            ThreadPoolExecutor(jobs) as pool,
        ):
            task = progress.add_task("importing", total=len(entries))
            pending: dict[Future[None], Entry] = {}
            todo = iter(entries)
            try:
                while True:
                    while stop is None and len(pending) < jobs * 2 and (entry := next(todo, None)):
                        pending[pool.submit(self.take, entry)] = entry
                    if not pending:
                        break
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        entry = pending.pop(future)
                        progress.advance(task)
                        error = future.exception()
                        if isinstance(error, STOPPING):
                            stop = stop or error
                        elif error is not None:
                            self.summary.fail(entry.relative, f"{type(error).__name__}: {error}")
            finally:
                for session in self.sessions:
                    session.close()
        if stop is not None:
            print_summary(self.summary, "", len(entries))
            raise stop
        return self.summary


def print_summary(summary: Summary, batch_name: str, total: int) -> None:
    c = summary.counts
    click.echo(f"files:        {total}")
    click.echo(f"imported:     {c[Outcome.accepted]}")
    click.echo(
        f"duplicates:   {c[Outcome.duplicate]}  (same content as a document already in: linked)"
    )
    click.echo(f"already in:   {c[Outcome.existing]}  (from an earlier run: skipped)")
    click.echo(f"quarantined:  {c[Outcome.quarantined]}")
    for code, items in sorted(summary.quarantined.items()):
        click.echo(f"  {code}: {len(items)}")
        for relative, reason in items[:20]:
            click.echo(f"    {relative}: {reason}")
        if len(items) > 20:
            click.echo(f"    ... and {len(items) - 20} more (see the quarantine list)")
    click.echo(f"failed:       {len(summary.failed)}")
    for relative, message in summary.failed[:50]:
        click.echo(f"  {relative}: {message}")
    if batch_name:
        click.echo(f"scan batch:   {batch_name}  (text and OCR follow in `eakte worker`)")


# ----------------------------------------------------------------------------------- watch


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--done",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where taken files go (default DIRECTORY/done).",
)
@click.option(
    "--failed",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where quarantined files go (default DIRECTORY/failed).",
)
@click.option(
    "--interval",
    type=click.IntRange(1, 3600),
    help="Seconds between scans [EAKTE_HOT_FOLDER_INTERVAL, default 5].",
)
@click.option("--once", is_flag=True, help="Take what is complete now, then stop (for scripts).")
@batch_options
@tenant_option
@user_option(default=None, who="a scanner or a clerk (administrators may not ingest)")
def watch(directory, done, failed, interval, once, tenant, username, **batch):
    """Watch DIRECTORY (a network scanner's hot folder) and take in every file once it is
    complete: unchanged for an interval. Taken files move to done/, quarantined ones to
    failed/ with a .reason.txt. Runs until stopped (Ctrl-C or SIGTERM)."""
    settings = load_settings()
    interval = interval or settings.hot_folder_interval
    folder = HotFolder(directory.absolute(), interval, done, failed, protected=(settings.data_dir,))
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with open_runtime(settings) as rt, rt.session() as session:
        actor = acting_user(session, tenant, username)
        watcher = _Watcher(rt, settings, session, actor, folder, rt.jobs.enqueue, batch)
        click.echo(f"watching {folder.root} every {interval}s")
        rounds = 0
        try:
            while not stopping.is_set():
                for entry in folder.complete_files():
                    watcher.take(entry)
                rounds += 1
                if once and rounds >= 2:
                    break
                stopping.wait(interval)
        except KeyboardInterrupt:
            pass
    click.echo("stopped watching")


@dataclass
class _Watcher:
    rt: Runtime
    settings: Settings
    session: Session
    actor: User
    folder: HotFolder
    enqueue: Enqueue
    batch: dict

    def take(self, entry: Entry) -> None:
        options = self.batch
        name = options["batch_name"] or f"hot folder {self.folder.root.name} {datetime.now():%F}"
        try:
            batch = scanning.open_batch(
                self.session,
                self.actor,
                name,
                operator=options["operator"],
                device=options["device"],
                dpi=options["dpi"],
                colour_mode=options["colour_mode"] or "",
                org_unit=options["org_unit"],
            )
            result = scan_split.intake_scan(  # separator and cover sheets (issue 17)
                self.session,
                self.actor,
                self.rt.store,
                IncomingFile(
                    entry.path,
                    os.fsencode(entry.path.name),
                    target=Target(org_unit=options["org_unit"]),
                    method="watch",
                    source=str(entry.path),
                    source_key=keys.path_source_key(
                        "watch", os.fsencode(entry.path), entry.size, entry.mtime_ns
                    ),
                    scan_batch_id=batch.id,
                    problem=entry.problem,
                ),
                settings=self.settings,
                enqueue=self.enqueue,
            )
        except STOPPING as exc:
            self.session.rollback()
            name = readable(os.fsencode(entry.relative))
            click.echo(f"{name}: left for the next round ({exc})", err=True)
            return
        reason = f"{result.reason_code}: {result.reason}" if result.reason else ""
        detail = f" ({reason})" if reason else ""
        name = readable(os.fsencode(entry.relative))
        try:
            moved = self.folder.settle(entry, result.document is not None, reason)
        except OSError as exc:
            # Taken in all the same: the next round finds it "already in" and tries again.
            click.echo(f"{name}: {result.outcome}{detail}, but could not be moved: {exc}", err=True)
            return
        click.echo(f"{name}: {result.outcome}{detail} -> {readable(os.fsencode(str(moved)))}")


# --------------------------------------------------------------------------------- recover


@click.command()
def recover() -> None:
    """Queue again the documents a crash left half processed (also done by every worker on
    start). Safe at any time: a document is never processed twice at once."""
    report = recover_pending(load_settings())
    click.echo(f"queued again: {len(report.requeued)}; being processed now: {report.still_running}")


def recover_pending(settings: Settings):
    """Recover with a runtime of its own, closed again (a worker forks after this)."""
    from eakte.jobs.ingest_tasks import recover_now

    with open_runtime(settings) as rt:
        return recover_now(rt)


COMMANDS: list[click.Command] = [
    import_command,
    watch,
    recover,
]
