"""Retention benchmark (issue 6): the disposal list at 100,000 cases, and a disposal of 1,000
cases that is killed halfway and resumed.

    python bench/retention_bench.py                       # both parts, the figures of the issue
    python bench/retention_bench.py --part list --cases 20000
    python bench/retention_bench.py --database-url postgresql://...   # default: SQLite file

Part "list": 100,000 cases over a 210-node file plan (closures 1985-2025, 90 % closed, a few
legal holds) are inserted in bulk; then, five runs each, the first page of the disposal list
with its total (unfiltered; by node; by org unit; by closure year), the full CSV export of every
due case and the past-due report. Target: each under 2 s.

Part "disposal": 1,000 due cases with one document each, its bytes really in S3 (an embedded
SeaweedFS of its own), proposed and approved by two records officers. The execution runs in a
child process that is killed (SIGKILL) once about 40 % of the cases are done; a second run
resumes it. Checked afterwards: exactly one certificate (row and PDF) per case, every document
destroyed, no version or delete marker left under the documents' keys.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from eakte import ports, schema
from eakte.db import make_engine, make_session_factory
from eakte.models import (
    Case,
    Document,
    DocumentStatus,
    FilePlanNode,
    FileVersion,
    Process,
    RetentionSchedule,
    Role,
    StoredObject,
    Tenant,
    User,
)
from eakte.services import accounts
from retention.models import DestructionCertificate, DisposalItem, ItemState
from retention.port import RetentionService
from retention.rules import retention_end

PASSWORD = "benchmark password"  # noqa: S105


def _median(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _setup(url: str):
    engine = make_engine(url)
    schema.upgrade(engine)
    sessions = make_session_factory(engine)
    ports.wire(sessions, retention=RetentionService())  # as the runtime does
    with sessions() as s:
        tenant = accounts.ensure_default_tenant(s, "Stadt Benchhausen")
        admin = accounts.create_user(s, tenant, "admin", PASSWORD, {Role.admin})
        for code, name in [("10", "Hauptamt"), ("32", "Ordnungsamt"), ("60", "Bauamt")]:
            accounts.add_org_unit(s, admin, code, name, None)
        for code, parent in [("32.1", "32"), ("32.2", "32"), ("60.1", "60")]:
            accounts.add_org_unit(s, admin, code, f"Sachgebiet {code}", parent)
        # the operator's path: officers need no second holder's confirmation, nor a new password
        officer = accounts.create_user(
            s, tenant, "reg1", PASSWORD, {Role.records_officer}, org_unit_code="10"
        )
        accounts.create_user(
            s, tenant, "reg2", PASSWORD, {Role.records_officer}, org_unit_code="10"
        )
        from eakte.services import fileplan
        from retention import schedules as schedule_service

        schedule_service.create_schedule(s, officer, "Zehn Jahre", period_years=10, action="V")
        schedule_service.create_schedule(s, officer, "Sechs Jahre", period_years=6, action="V")
        schedule_service.create_schedule(s, officer, "Dauernd", period_years=None, action="A")
        rows = ["code;title;parent;schedule;org_unit"]
        units = ["32.1", "32.2", "60.1"]
        for group in range(10):
            rows.append(f"{group};Hauptgruppe {group};;Zehn Jahre;")
            for sub in range(20):
                schedule = ["Zehn Jahre", "Sechs Jahre", "Dauernd"][sub % 7 % 3]
                unit = units[(group + sub) % 3]
                rows.append(
                    f"{group}.{sub:02d};Betreff {group}.{sub:02d};{group};{schedule};{unit}"
                )
        fileplan.import_csv(s, officer, "\n".join(rows).encode())
    return engine, sessions


def _load_cases(sessions, count: int, seed: int = 6) -> None:
    rng = random.Random(seed)
    with sessions() as s:
        tenant_id = s.scalar(select(Tenant.id))
        creator = s.scalar(select(User.id).where(User.username == "reg1"))
        nodes = s.execute(
            select(
                FilePlanNode.id,
                FilePlanNode.code,
                FilePlanNode.org_unit_id,
                FilePlanNode.schedule_id,
            ).where(FilePlanNode.parent_id.is_not(None))
        ).all()
        schedules = {x.id: x for x in s.scalars(select(RetentionSchedule))}
        now = datetime.now(UTC)
        batch = []
        for number in range(count):
            node_id, code, unit_id, schedule_id = nodes[number % len(nodes)]
            schedule = schedules[schedule_id]
            closed = None
            if rng.random() < 0.9:
                closed = date(rng.randint(1985, 2025), rng.randint(1, 12), rng.randint(1, 28))
            batch.append(
                {
                    "uuid": uuid.uuid4(),
                    "created_at": now,
                    "tenant_id": tenant_id,
                    "node_id": node_id,
                    "org_unit_id": unit_id,
                    "file_reference": f"{code}-{number:06d}/bench",
                    "title": f"Vorgang {number} {code}",
                    "description": "",
                    "status": "closed" if closed else "open",
                    "closed_at": closed,
                    "schedule_id": schedule_id,
                    "schedule_override_reason": "",
                    "restricted": False,
                    "created_by_id": creator,
                    "retention_end": retention_end(
                        schedule.period_years, schedule.trigger, closed, None
                    ),
                    "disposal_state": "",
                    "archive_id": "",
                    "index_dirty": False,
                    "index_version": 0,
                    "object_lock_pending": False,
                }
            )
            if len(batch) == 5000:
                s.execute(insert(Case), batch)
                batch = []
        if batch:
            s.execute(insert(Case), batch)
        s.commit()


def part_list(url: str, cases: int, runs: int) -> None:
    from retention import holds
    from retention.due import DueFilter, export_csv, list_due, past_due

    engine, sessions = _setup(url)
    start = time.perf_counter()
    _load_cases(sessions, cases)
    print(f"disposal list: {cases:,} cases inserted in {time.perf_counter() - start:.1f} s")
    with sessions() as s:
        officer = accounts.find_user(s, s.scalar(select(Tenant)), "reg1")
        some = s.scalars(select(Case.id).where(Case.status == "closed").limit(20)).all()
        for case_id in some:
            holds.place_hold(s, officer, "case", case_id, reason="Klage", authority="VG")
        holds.place_hold(s, officer, "node", "3", reason="Prüfung", authority="RPA")
        year = 2005
        checks = {
            "first page, unfiltered": DueFilter(),
            "by node (group 1)": DueFilter(node="1"),
            "by org unit (32)": DueFilter(org_unit="32"),
            f"by closure year ({year})": DueFilter(closure_year=year),
        }
        for label, flt in checks.items():
            seconds, page = _median(lambda flt=flt: list_due(s, officer, flt), runs)
            print(f"  {label:28} median {seconds * 1000:7.1f} ms  ({page.total:,} due)")
        seconds, rows = _median(lambda: export_csv(s, officer, io.StringIO()), runs)
        print(
            f"  {'CSV export, every due case':28} median {seconds * 1000:7.1f} ms  ({rows:,} rows)"
        )
        seconds, report = _median(lambda: past_due(s, officer), runs)
        label = "past-due report (R14)"
        print(f"  {label:28} median {seconds * 1000:7.1f} ms  ({len(report):,} cases)")
    print("  target: each under 2 s")
    engine.dispose()


# ------------------------------------------------------------------ the disposal


# Disposal deletes only what is past its COMPLIANCE floor: the bench stores with one of a
# second (production: at least a day) and waits it out before executing.
_FLOOR = timedelta(seconds=1)


def _store(args):
    from storage.blobstore import BlobStore

    return BlobStore(
        args.endpoint, args.access_key, args.secret_key, args.bucket, min_retention=_FLOOR
    )


def _make_disposal(sessions, store, count: int) -> int:
    from eakte.models import VersionKind
    from retention import disposal

    with sessions() as s:
        tenant = s.scalar(select(Tenant))
        officer = accounts.find_user(s, tenant, "reg1")
        second = accounts.find_user(s, tenant, "reg2")
        node = s.scalar(select(FilePlanNode).where(FilePlanNode.code == "1.01"))
        schedule_id = s.scalar(
            select(RetentionSchedule.id).where(RetentionSchedule.name == "Zehn Jahre")
        )
        case_ids = []
        for number in range(count):
            case = Case(
                tenant_id=tenant.id,
                node_id=node.id,
                org_unit_id=node.org_unit_id,
                file_reference=f"1.01-{number:05d}/2010",
                title=f"Gewerbeakte {number}",
                status="closed",
                closed_at=date(2010, 3, 1),
                schedule_id=schedule_id,
                retention_end=date(2021, 1, 1),
                index_dirty=False,
            )
            process = Process(tenant_id=tenant.id, case=case, number=1, title="Vorgang")
            s.add_all([case, process])
            s.flush()
            document_uuid = uuid.uuid4()
            payload = f"%PDF-1.4 Gewerbeanmeldung Nr. {number} {'x' * 2000}".encode()
            stored = store.put(
                f"{tenant.slug}/documents/{document_uuid}/original.pdf",
                io.BytesIO(payload),
                len(payload),
                content_type="application/pdf",
            )
            row = StoredObject(
                tenant_id=tenant.id,
                key=stored.key,
                version_id=stored.version_id,
                sha256=stored.sha256,
                size=stored.size,
                content_type="application/pdf",
            )
            s.add(row)
            s.flush()
            document = Document(
                uuid=document_uuid,
                tenant_id=tenant.id,
                process_id=process.id,
                title=f"Gewerbeanmeldung {number}",
                status=DocumentStatus.ready.value,
                extracted_text=f"Gewerbeanmeldung Nr. {number}",
                sha256=stored.sha256,
                source="bench",
            )
            document.versions.append(
                FileVersion(
                    kind=VersionKind.original.value,
                    stored_object_id=row.id,
                    s3_key=stored.key,
                    s3_version_id=stored.version_id,
                    sha256=stored.sha256,
                    size=stored.size,
                    mime="application/pdf",
                    filename="antrag.pdf",
                )
            )
            s.add(document)
            case_ids.append(case.id)
            if number % 200 == 199:
                s.commit()
        s.commit()
        request = disposal.propose(s, officer, case_ids, note="Benchmark")
        disposal.approve(s, second, request.id)
        return request.id


def _child_execute(args) -> None:
    """The execution job in a process of its own, so that it can be killed like a worker."""
    from retention.execution import execute_request

    engine = make_engine(args.database_url)
    sessions = make_session_factory(engine)
    ports.wire(sessions, retention=RetentionService())  # as the runtime does
    with sessions() as s:
        officer = accounts.find_user(s, s.scalar(select(Tenant)), "reg1")
        execute_request(s, officer, _store(args), args.request)


def _done(sessions) -> int:
    with sessions() as s:
        return s.scalar(
            select(func.count(DisposalItem.id)).where(DisposalItem.state == ItemState.done.value)
        )


def part_disposal(url: str, count: int, kill_at: float, workdir: Path) -> None:
    from retention.execution import execute_request
    from storage.embedded import EmbeddedSeaweedFS

    engine, sessions = _setup(url)
    server = EmbeddedSeaweedFS(workdir / "s3").start()
    try:
        store = server.blobstore("retention-bench", min_retention=_FLOOR)
        store.ensure_bucket()
        start = time.perf_counter()
        request_id = _make_disposal(sessions, store, count)
        time.sleep(_FLOOR.total_seconds() + 1)
        print(
            f"disposal: {count:,} due cases with a document in S3 prepared in "
            f"{time.perf_counter() - start:.1f} s; request proposed and approved"
        )
        child_args = [
            sys.executable,
            __file__,
            "--child",
            "--database-url",
            url,
            "--endpoint",
            server.endpoint,
            "--access-key",
            server.access_key,
            "--secret-key",
            server.secret_key,
            "--bucket",
            store.bucket,
            "--request",
            str(request_id),
        ]
        start = time.perf_counter()
        child = subprocess.Popen(child_args)
        target = int(count * kill_at)
        while (done := _done(sessions)) < target and child.poll() is None:
            time.sleep(0.2)
        first_run = time.perf_counter() - start
        child.send_signal(signal.SIGKILL)
        child.wait()
        done = _done(sessions)
        with sessions() as s:
            certificates = s.scalar(select(func.count(DestructionCertificate.id)))
            destroying = s.scalar(
                select(func.count(DisposalItem.id)).where(
                    DisposalItem.state == ItemState.destroying.value
                )
            )
        print(
            f"  first run killed (SIGKILL) after {first_run:.1f} s: {done} cases done, "
            f"{destroying} half-way, {certificates} certificates "
            f"({done / first_run:.1f} cases/s)"
        )
        start = time.perf_counter()
        with sessions() as s:
            officer = accounts.find_user(s, s.scalar(select(Tenant)), "reg1")
            report = execute_request(s, officer, store, request_id)
        resumed = time.perf_counter() - start
        print(
            f"  resumed: {len(report.destroyed)} more cases in {resumed:.1f} s "
            f"({len(report.destroyed) / resumed:.1f} cases/s); completed: {report.completed}"
        )
        with sessions() as s:
            certificates = s.scalars(select(DestructionCertificate)).all()
            per_case = len({c.case_id for c in certificates})
            pdfs = sum(1 for c in certificates if c.pdf_key)
            live = s.scalar(
                select(func.count(Document.id)).where(
                    Document.status != DocumentStatus.destroyed.value
                )
            )
        left = sum(1 for _ in store.list(prefix="default/documents/", versions=True))
        stored_pdfs = sum(1 for _ in store.list(prefix="default/certificates/", versions=True))
        print(
            f"  check: {len(certificates)} certificates for {per_case} cases, {pdfs} PDFs "
            f"registered, {stored_pdfs} PDF versions in S3, {live} documents not destroyed, "
            f"{left} object versions left under the documents' keys"
        )
        ok = (
            len(certificates) == per_case == pdfs == stored_pdfs == count
            and live == 0
            and left == 0
        )
        print(f"  {'OK' if ok else 'FAILED'}: exactly one certificate per case, nothing left")
    finally:
        _cleanup(server)
        engine.dispose()


def _cleanup(server) -> None:
    server.stop()  # its data dir is in the bench's temp dir, removed afterwards


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["list", "disposal", "both"], default="both")
    parser.add_argument("--cases", type=int, default=100_000, help="cases for the list part")
    parser.add_argument("--disposal", type=int, default=1_000, help="cases to dispose of")
    parser.add_argument("--kill-at", type=float, default=0.4, help="share done at the kill")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: fresh SQLite files")
    # used by the child process of the disposal part
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--access-key", help=argparse.SUPPRESS)
    parser.add_argument("--secret-key", help=argparse.SUPPRESS)
    parser.add_argument("--bucket", help=argparse.SUPPRESS)
    parser.add_argument("--request", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_execute(args)
        return
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="retention-bench-") as tmp:
        workdir = Path(tmp)
        if args.part in ("list", "both"):
            url = args.database_url or f"sqlite:///{workdir / 'list.db'}"
            part_list(url, args.cases, args.runs)
        if args.part in ("disposal", "both"):
            url = args.database_url or f"sqlite:///{workdir / 'disposal.db'}"
            part_disposal(url, args.disposal, args.kill_at, workdir)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
