"""``eakte init``, ``eakte serve`` and ``eakte worker``."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from eakte import metrics
from eakte.commands.common import load_settings
from eakte.config import Settings
from eakte.errors import PortInUse
from eakte.locks import DataDirLock
from eakte.runtime import open_runtime
from eakte.services.setup import initialise, migrate

_REPAIRS_SHOWN = 20


@click.command()
def init() -> None:
    """Create or upgrade an installation; running it again loses nothing.

    Creates the data dir, applies database migrations, creates the bucket with versioning and
    Object Lock, and creates the first admin user; makes the data dir private (0700 folders,
    0600 files) and lists what it repaired. Its password is taken from
    EAKTE_ADMIN_PASSWORD, else generated and printed once.
    """
    settings = load_settings()
    with open_runtime(settings, require_schema=False) as rt:
        result = initialise(rt, os.environ.get("EAKTE_ADMIN_PASSWORD") or None)
    click.echo(f"data dir:  {settings.data_dir}")
    if result.made_private:
        click.echo(f"           made private (others could read them): {len(result.made_private)}")
        for item in result.made_private[:_REPAIRS_SHOWN]:
            click.echo(f"           {item.describe()}")
        if len(result.made_private) > _REPAIRS_SHOWN:
            click.echo(f"           ... and {len(result.made_private) - _REPAIRS_SHOWN} more")
    if result.schema_before == result.schema_after:
        click.echo(f"database:  schema {result.schema_after} (up to date)")
    else:
        click.echo(f"database:  schema {result.schema_before or 'new'} -> {result.schema_after}")
    click.echo(f"storage:   bucket {settings.s3.bucket!r} with versioning and Object Lock")
    if result.admin_created and result.admin_password:
        click.echo(f"admin:     user 'admin', password {result.admin_password}  (shown only once)")
    elif result.admin_created:
        click.echo("admin:     user 'admin' created with the password from EAKTE_ADMIN_PASSWORD")


@click.command()
@click.option("--host", help="Address to listen on [EAKTE_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [EAKTE_PORT, default 8000].")
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(0, 64),
    help="Job worker processes to start beside the web server; 0 for none [EAKTE_WORKERS].",
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Run eAkte: the embedded S3 server (unless EAKTE_S3_ENDPOINT is set), the web app and a
    job worker. Stops everything it started on Ctrl-C or SIGTERM."""
    from waitress import create_server

    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    workers = settings.workers if workers is None else workers
    settings.ensure_data_dir()
    with DataDirLock(settings.data_dir, "serve"):
        # Counter files of processes from an earlier run would be added to this run's figures;
        # cleared before this process (the web app) or the worker makes its counters.
        shutil.rmtree(settings.data_dir / "metrics", ignore_errors=True)
        metrics.use_multiprocess_dir(settings.data_dir / "metrics")
        from web import create_app

        server = _bind(create_server, host, port, settings)
        with open_runtime(settings, require_schema=False) as rt, _stop_on_sigterm():
            migrate(rt)
            rt.store.ensure_bucket(create=True)
            rt.search  # noqa: B018 (opened now: a changed Whoosh stops the start, loudly)
            server.application = create_app(rt)
            with _worker_process(workers):
                click.echo(
                    f"eAkte listens on http://{host}:{port}/  (data dir {settings.data_dir})"
                )
                server.run()


@click.command()
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (each runs one job at a time: OCR is parallel across documents).",
)
def worker(workers: int) -> None:
    """Run background jobs (OCR, indexing, disposal, nightly fixity check) until stopped."""
    from huey.consumer import Consumer

    from eakte.commands.ingest import recover_pending
    from eakte.ingest import limit_tesseract_threads, ocrmypdf_compat
    from eakte.jobs.factory import HueyJobs
    from eakte.jobs.ingest_tasks import warm_up
    from indexing import compat as search_compat

    settings = load_settings()
    # Tesseract's own threads are slower than parallel documents on a busy machine.
    limit_tesseract_threads()
    # OCR pages and disposal runs are counted here and reported by the web process.
    metrics.use_multiprocess_dir(settings.data_dir / "metrics")
    recover_pending(settings)  # queue again what a crash left half done (issue 4)
    # Load the PDF and OCR libraries once, before the worker processes are forked: each would
    # otherwise spend 1.5 s of CPU on its first document, and they share the pages.
    warm_up()
    # A changed OCRmyPDF fails here, loudly, not in the first scan (issue 15).
    ocrmypdf_compat.self_check()
    search_compat.self_check()  # and a changed Whoosh here, not in the first index run
    with open_runtime(settings) as rt:
        jobs = rt.jobs  # the tasks, bound to this runtime; each forked worker reconnects
        assert isinstance(jobs, HueyJobs)  # built by the factory, not a test's stand-in
        # max_delay: an idle worker looks at the queue at least four times a second (one
        # small query on SQLite; Redis blocks instead), so an upload is searchable and a bulk
        # import's first documents are taken soon.
        consumer = Consumer(
            jobs.huey, workers=workers, worker_type="process", periodic=True, max_delay=0.25
        )
        consumer.run()


def _bind(create_server: Callable[..., Any], host: str, port: int, settings: Settings) -> Any:
    from web.body_limits import limit_request_bodies

    try:
        # Binding first: a taken port fails before anything else is started.
        server = create_server(
            _starting,
            host=host,
            port=port,
            threads=settings.web_threads,
            ident="eAkte",
            # waitress's default of 100 open connections turns away the 101st browser that
            # keeps its connection alive; records offices have more people than that.
            connection_limit=1000,
            # the hard cap; each route's own limit is lower or equal (web.body_limits)
            max_request_body_size=settings.max_upload_bytes,
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is already in use (EAKTE_PORT)") from None
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    # Bodies are refused by their route's limit before waitress reads them (issue 14).
    limit_request_bodies(server, lambda: server.application)
    return server


def _starting(_environ: object, start_response: Callable[..., object]) -> list[bytes]:
    """Answers until the app is ready (the socket is bound before storage and database)."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")])
    return ["eAkte startet …".encode()]


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM ends ``serve`` like Ctrl-C, so that everything started is stopped in order."""

    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _worker_process(workers: int) -> Iterator[None]:
    if workers == 0:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-m", "eakte", "worker", "-w", str(workers)])
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


COMMANDS: list[click.Command] = [init, serve, worker]
