"""Audit anchor benchmark (issue 13): the anchor job and ``eakte verify`` (each of its parts)
at 100,000 cases / 300,000 objects.

    python -m bench.audit_anchor_bench                          # the issue's size
    python -m bench.audit_anchor_bench --cases 10000 --objects 30000 --anchors 500
    python -m bench.audit_anchor_bench --database-url postgresql://...   # default: SQLite file
    python -m bench.audit_anchor_bench --workdir DIR --phase setup     # fill DIR once, then
    python -m bench.audit_anchor_bench --workdir DIR --phase measure   # time over it

Set-up (timed, but not the point): the file plan and the cases of ``retention_bench`` (90 %
closed), one process per case, ``--objects`` documents spread over the cases, each with one
original whose bytes (1 KiB) are really in S3 (an embedded SeaweedFS of its own; uploads
``--threads`` at a time), registered by bulk core inserts (stored object, document, file
version rows: the benchmark needs the data, not the intake path); an audit trail of
``--entries-per-case`` hash-chained entries per case (bulk inserts); ``--anchors`` anchors
spread over the chain's history, as locked objects in the bucket; with ``--timestamps N``, N
more anchors with a token from a local ``openssl ts`` TSA.

Timed: the periodic anchor job when entries were written since the last anchor (median of
``--runs``) and when none were; then every check of ``eakte verify`` on its own (one run:
the object check reads every byte), anchors included, and the whole report's total, the cost
per object version and the peak RSS of the process. Every version is stored with the store's
floor (365 days) only, as the lock sync is not part of this benchmark: the retention check
reports each version of a closed case whose end lies further ahead (from the fixity check's
reads, no request of its own). With ``--phase measure`` the process does nothing but the
anchor job and the verify, so its peak RSS is theirs.

Figures at the issue's size (2026-12-07, SQLite, 2 cores, the bench at ``nice -n 10``; load
average 6-9 during the set-up, 2-8 during the verify, beside a test suite run): 100,000 cases,
300,000 objects, 1,000,018 audit entries, 5,005 anchors.

    set-up: cases 35 s; 300,000 objects stored and registered 1,764 s (~170/s, 8 uploads at
            a time); audit chain of 1,000,000 entries 30 s; 5,000 anchors 9 s
    anchor job: entries written since the last anchor 0.009 s, none 0.001 s (medians of 5)
    eakte verify: objects 1,547 s (5.16 ms per version, 8 reads at a time), orphans 180 s
            (listing 300,000 versions), audit chain 18 s (1,000,018 entries), anchors 2.0 s
            (5,005), retention locks 14 s (149,871 versions), data dir / transfer notes /
            index < 0.01 s; total 1,762 s = 5.87 ms per object version
    peak RSS of the process 472 MiB, 395 MiB before the verify (the set-up ran in the same
            process, ``--phase all``: its memory is in both figures)
    findings: 33,945 retention (closed cases' ends beyond the floor, see above), nothing else

An earlier run at 200,000 objects under heavier load (9-16): objects 921 s (4.6 ms per
version), orphans 493 s, chain 52 s, anchors 8.6 s, retention locks 53 s, total 1,527 s
(7.6 ms per version), peak RSS 407 MiB with ``--phase measure``. Object check, same data, load
~7.5, 2,000 versions a run, medians of 5: one read at a time (the check before) 2.80 ms per
version, 8 at a time 2.03 ms (the two cores, not the waits, are the limit here).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from bench.retention_bench import _load_cases, _setup
from eakte import audit, ports
from eakte.audit_anchors import PREFIX, Anchor, AnchorPolicy, anchor_if_moved, put_locked
from eakte.config import S3Settings, Settings
from eakte.db import make_engine, make_session_factory
from eakte.models import (
    AuditEvent,
    AuditHead,
    Case,
    Document,
    FileVersion,
    Process,
    StoredObject,
    Tenant,
    User,
)
from eakte.verify import CHECKS, VerifyContext, VerifyReport, check_objects
from retention.port import RetentionService

_BATCH = 5000
BUCKET = "anchor-bench"
_PAYLOAD = 1024
POLICY = AnchorPolicy(retain_years=1)  # the bench's bucket is thrown away afterwards


def _batches(rows, size=_BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _load_records(sessions, store, objects: int, threads: int, first: int = 0) -> int:
    """One process per case; ``objects`` documents over the cases (numbered from ``first``),
    bytes in S3."""
    with sessions() as s:
        tenant = s.scalar(select(Tenant))
        if not s.scalar(select(func.count(Process.id))):
            case_ids = list(s.scalars(select(Case.id).order_by(Case.id)))
            for chunk in _batches(case_ids):
                s.execute(
                    insert(Process),
                    [
                        {"tenant_id": tenant.id, "case_id": c, "number": 1, "title": "Vorgang"}
                        for c in chunk
                    ],
                )
            s.commit()
        process_ids = list(s.scalars(select(Process.id).order_by(Process.id)))
    plan = [
        (process_ids[n % len(process_ids)], uuid.uuid4(), n) for n in range(first, first + objects)
    ]

    def put(item):
        _, document_uuid, number = item
        payload = f"%PDF-1.4 Dokument {number} ".encode().ljust(_PAYLOAD, b"x")
        key = f"default/documents/{document_uuid}/original.pdf"
        return store.put(key, io.BytesIO(payload), len(payload), "application/pdf")

    with ThreadPoolExecutor(threads) as pool, sessions() as s:
        for chunk in _batches(plan, 2000):
            stored = list(pool.map(put, chunk))
            object_rows = [
                {
                    "tenant_id": tenant.id,
                    "key": o.key,
                    "version_id": o.version_id,
                    "sha256": o.sha256,
                    "size": o.size,
                    "content_type": "application/pdf",
                }
                for o in stored
            ]
            object_ids = list(
                s.scalars(
                    insert(StoredObject).returning(StoredObject.id, sort_by_parameter_order=True),
                    object_rows,
                )
            )
            doc_rows = [
                {
                    "uuid": document_uuid,
                    "tenant_id": tenant.id,
                    "process_id": process_id,
                    "title": f"Dokument {number}",
                    "status": "ready",
                    "sha256": o.sha256,
                    "source": "bench",
                    "index_dirty": False,
                }
                for (process_id, document_uuid, number), o in zip(chunk, stored, strict=True)
            ]
            doc_ids = list(
                s.scalars(
                    insert(Document).returning(Document.id, sort_by_parameter_order=True), doc_rows
                )
            )
            s.execute(
                insert(FileVersion),
                [
                    {
                        "document_id": d,
                        "kind": "original",
                        "stored_object_id": oid,
                        "s3_key": o.key,
                        "s3_version_id": o.version_id,
                        "sha256": o.sha256,
                        "size": o.size,
                        "mime": "application/pdf",
                        "filename": "antrag.pdf",
                    }
                    for d, oid, o in zip(doc_ids, object_ids, stored, strict=True)
                ],
            )
            s.commit()
    return len(plan)


def _load_audit(sessions, entries: int) -> list[tuple[int, str, datetime]]:
    """A valid chain of ``entries`` entries over the last ten years; returns (id, hash, at)."""
    with sessions() as s:
        user = s.scalar(select(User).where(User.username == "reg1"))
        head = s.get(AuditHead, audit.HEAD_ID)
        prev_id, prev_hash = head.last_id, head.last_hash
        first = prev_id + 1
        start = datetime.now(UTC) - timedelta(days=3650)
        step = timedelta(days=3650) / max(entries, 1)
        chain, rows = [], []
        for n in range(entries):
            event = SimpleNamespace(
                id=first + n,
                at=start + step * n,
                tenant_id=user.tenant_id,
                user_id=user.id,
                username=user.username,
                action=("create", "file", "view", "change", "close")[n % 5],
                object_type="document",
                object_uuid=str(uuid.UUID(int=n)),
                outcome="ok",
                details='{"title":["alt","neu"]}' if n % 5 == 3 else "{}",
                prev_hash=prev_hash,
            )
            event.hash = prev_hash = audit.entry_hash(event)
            rows.append(vars(event))
            chain.append((event.id, event.hash, event.at))
            if len(rows) == _BATCH:
                s.execute(insert(AuditEvent), rows)
                rows = []
        if rows:
            s.execute(insert(AuditEvent), rows)
        head = s.get(AuditHead, audit.HEAD_ID)
        head.last_id, head.last_hash = chain[-1][0], chain[-1][1]
        s.commit()
    return chain


def _load_anchors(store, chain, count: int, threads: int) -> None:
    """``count`` anchors spread over the chain's history, as the job would have left them."""
    positions = [chain[(len(chain) - 1) * k // max(count - 1, 1)] for k in range(count)]

    def put(position):
        last_id, last_hash, at = position
        anchor = Anchor(at + timedelta(seconds=1), last_id, last_hash)
        put_locked(store, anchor.key, anchor.body(), "application/json", _until())

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, positions))


def _until() -> datetime:
    return datetime.now(UTC) + timedelta(days=2)


def _timed(label: str, fn, runs: int = 1):
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    suffix = f" (median of {runs})" if runs > 1 else ""
    print(f"  {label:44} {median:9.3f} s{suffix}")
    return result


def _timestamps(sessions, store, workdir: Path, count: int) -> None:
    """``count`` anchors with an RFC 3161 token from a local ``openssl ts`` TSA (as in the
    tests); the token checks are timed apart from the rest of the anchor check."""
    from eakte.audit_anchors import check_anchors, write_anchor
    from tests.fixtures.tsa import running_tsa

    print("timestamps:")
    with running_tsa(workdir / "tsa") as tsa:
        policy = AnchorPolicy(1, tsa.url, tsa.ca_file)

        def write():
            with sessions() as s:
                for _ in range(count):
                    audit.record(s, None, "bench")
                    s.commit()
                    write_anchor(s, store, policy, "bench")

        _timed(f"{count:,} anchors written with a token", write)
        for label, used in (("without", AnchorPolicy(1)), ("with", policy)):
            with sessions() as s:
                _timed(
                    f"anchor check {label} the token checks",
                    lambda s=s, used=used: list(check_anchors(s, store, used, {})),
                )


def _settings(workdir: Path, url: str, server, store) -> Settings:
    settings = Settings(
        data_dir=workdir / "data",
        database_url=url,
        s3=S3Settings(server.endpoint, server.access_key, server.secret_key, store.bucket),
    )
    settings.ensure_data_dir()
    return settings


def set_up(args, workdir: Path, url: str) -> None:
    """Fill ``workdir``; a set-up that was stopped (or a smaller one) is completed: only the
    steps, and the objects, not there yet are added."""
    from storage.embedded import EmbeddedSeaweedFS

    resumed = (workdir / "eakte.db").exists() and args.database_url is None
    if resumed:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        ports.wire(sessions, retention=RetentionService())  # as the runtime does
    else:
        engine, sessions = _setup(url)
    server = EmbeddedSeaweedFS(workdir / "s3").start()
    start = time.perf_counter()
    try:
        store = server.blobstore(BUCKET)
        store.ensure_bucket()
        with sessions() as s:
            cases = s.scalar(select(func.count(Case.id)))
            objects = s.scalar(select(func.count(StoredObject.id)))
            entries_there = s.scalar(select(func.count(AuditEvent.id)))
        anchors_there = sum(1 for _ in store.list(prefix=PREFIX))
        print(f"set-up ({args.cases:,} cases, {args.objects:,} objects):")
        if resumed:
            print(
                f"  resumed: {cases:,} cases, {objects:,} objects, {entries_there:,} entries, "
                f"{anchors_there:,} anchors there"
            )
        if not cases:
            _timed("cases inserted", lambda: _load_cases(sessions, args.cases))
        _timed(
            "objects stored in S3 and registered",
            lambda: _load_records(sessions, store, args.objects - objects, args.threads, objects),
        )
        entries = args.cases * args.entries_per_case
        if entries_there < entries:
            chain = _timed(
                f"audit chain of {entries:,} entries", lambda: _load_audit(sessions, entries)
            )
            _timed(
                f"{args.anchors:,} anchors in the bucket",
                lambda: _load_anchors(store, chain, args.anchors, args.threads),
            )
    finally:
        server.stop()
        engine.dispose()
    print(f"  {'set-up total':44} {time.perf_counter() - start:9.3f} s")


def measure(args, workdir: Path, url: str) -> None:
    """The anchor job and every check of ``eakte verify`` over what :func:`set_up` left."""
    from storage.embedded import EmbeddedSeaweedFS

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    ports.wire(sessions, retention=RetentionService())  # as the runtime does
    server = EmbeddedSeaweedFS(workdir / "s3").start()
    try:
        store = server.blobstore(BUCKET)
        settings = _settings(workdir, url, server, store)
        print("anchor job:")

        def job_after_entry():
            with sessions() as s:
                audit.record(s, None, "bench")
                s.commit()
                return anchor_if_moved(s, store, POLICY)

        def job_idle():
            with sessions() as s:
                return anchor_if_moved(s, store, POLICY)

        _timed("entries written since the last anchor", job_after_entry, args.runs)
        _timed("nothing written since (no anchor)", job_idle, args.runs)

        if args.timestamps:
            _timestamps(sessions, store, workdir, args.timestamps)

        print("eakte verify, each check:")
        report = VerifyReport()
        rss_before = _peak_rss_mib()
        total = time.perf_counter()
        objects_time = 0.0
        with sessions() as s:
            ctx = VerifyContext(s, store, settings)
            for check in CHECKS:
                start = time.perf_counter()
                found = _timed(check.__name__, lambda check=check: list(check(ctx, report.checked)))
                if check is check_objects:
                    objects_time = time.perf_counter() - start
                report.findings.extend(found)
        elapsed = time.perf_counter() - total
        print(f"  {'total':44} {elapsed:9.3f} s")
        print(f"  checked: {report.checked}")
        by_check = {}
        for finding in report.findings:
            by_check[finding.check] = by_check.get(finding.check, 0) + 1
        print(f"  findings by check: {by_check or 'none'}")
        objects = report.checked.get("objects", 0)
        if objects:
            print(f"  object check per version: {objects_time / objects * 1000:.2f} ms")
            print(f"  verify total per version: {elapsed / objects * 1000:.2f} ms")
        print(
            f"  peak RSS of this process: {rss_before:.0f} MiB before verify, "
            f"{_peak_rss_mib():.0f} MiB after"
        )
    finally:
        server.stop()
        engine.dispose()


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--objects", type=int, default=300_000)
    parser.add_argument("--entries-per-case", type=int, default=10)
    parser.add_argument("--anchors", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--timestamps", type=int, default=0, help="anchors with an RFC 3161 token (local TSA)"
    )
    parser.add_argument("--threads", type=int, default=8, help="parallel S3 uploads in set-up")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep database and bucket here (default: a temp dir, removed afterwards)",
    )
    parser.add_argument(
        "--phase",
        choices=["all", "setup", "measure"],
        default="all",
        help="setup: only fill --workdir; measure: time over what a setup left there",
    )
    args = parser.parse_args()
    if args.phase != "all" and args.workdir is None:
        parser.error("--phase setup/measure needs --workdir")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with contextlib.ExitStack() as stack:
        if args.workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="anchor-bench-")))
        else:
            workdir = args.workdir
            workdir.mkdir(parents=True, exist_ok=True)
        url = args.database_url or f"sqlite:///{workdir / 'eakte.db'}"
        if args.phase in ("all", "setup"):
            set_up(args, workdir, url)
        if args.phase in ("all", "measure"):
            if args.phase == "all":
                print(f"load average after set-up: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            measure(args, workdir, url)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
