"""Desk benchmark (issue 16, Performance): the desk page of a clerk with ~2,000 items under 20
users pausing 2-5 s, and the nightly workflow run, over a loaded database.

    python bench/desk_bench.py                      # 100,000 cases, 300,000 documents, ...
    python bench/desk_bench.py --scale 0.1          # a tenth of every count (the clerk's 2,000
                                                    # items stay 2,000)
    python bench/desk_bench.py --database-url postgresql+psycopg://...   # an empty schema

Set-up: a fresh database migrated by ``eakte.schema``; org units, 200 clerks, a schedule and a
file plan made through the services; then cases (one process each), documents (three per case,
METADATA ONLY: no bytes in S3, no OCR), routes with 20,000 open steps and 50,000 Wiedervorlagen
written in bulk with SQLAlchemy Core. The measured clerk has 1,000 current steps routed to
them, 800 Wiedervorlagen due and 200 assigned inbox documents (2,000 items).

Load: the Flask app (``create_app``) in this process, 20 threads each signed in through the
login form as a clerk (the measured one and 19 others), each opening ``/schreibtisch`` and
pausing 2-5 s, for ``--seconds``. The desk is answered by the app as in ``eakte serve`` but
without waitress and the network (both the same for every page): p50/p95/p99 of the page.
Then the nightly run (``eakte.workflow.nightly.run_nightly``), timed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eakte import schema
from eakte.config import S3Settings, Settings
from eakte.db import make_engine, make_session_factory
from eakte.models import Case, Document, Process, Role, User
from eakte.models.workflow import Route, RouteStep, Wiedervorlage
from eakte.passwords import use_cheapest_parameters
from eakte.runtime import Runtime, wire_ports
from eakte.services import accounts, fileplan
from eakte.workflow.nightly import run_nightly
from retention import schedules

PASSWORD = "benchmark password 1"  # noqa: S105 (a throwaway database)
PLAN = "code;title;parent;schedule;org_unit\n32;Ordnung;;Gewerbe;32\n"
CHUNK = 5000
TODAY = date.today()
NOW = datetime.now(UTC)


def _bulk(session, model, rows) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[start : start + CHUNK])
    session.commit()


def load(url: str, scale: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    engine = make_engine(url)
    schema.upgrade(engine)
    sessions = make_session_factory(engine)
    from eakte import ports
    from retention.port import RetentionService

    ports.wire(sessions, retention=RetentionService())
    with sessions() as s:
        tenant = accounts.ensure_default_tenant(s)
        admin = accounts.create_user(s, tenant, "admin", PASSWORD, {Role.admin})
        accounts.add_org_unit(s, admin, "32", "Ordnungsamt")
        officer = accounts.create_user(
            s, tenant, "registratur", PASSWORD, {Role.records_officer}, org_unit_code="32"
        )
        for n in range(200):
            accounts.create_user(s, tenant, f"clerk{n}", PASSWORD, {Role.clerk}, org_unit_code="32")
        schedules.create_schedule(s, officer, "Gewerbe", period_years=10, action="V")
        fileplan.import_csv(s, officer, PLAN.encode())
        tenant_id = tenant.id
        from eakte.models import FilePlanNode, OrgUnit, RetentionSchedule

        node_id = s.scalar(select(FilePlanNode.id))
        schedule_id = s.scalar(select(RetentionSchedule.id))
        unit_id = s.scalar(select(OrgUnit.id).where(OrgUnit.code == "32"))
        clerks = list(
            s.scalars(select(User.id).where(User.username.like("clerk%")).order_by(User.id))
        )
        author = s.scalar(select(User.id).where(User.username == "clerk1"))
    measured = clerks[0]  # clerk0
    n_cases = int(100_000 * scale)
    n_docs = int(300_000 * scale)
    n_steps = max(int(20_000 * scale), 1_000)
    n_wv = max(int(50_000 * scale), 800)
    with sessions() as s:
        started = time.monotonic()
        _bulk(
            s,
            Case,
            [
                {
                    "tenant_id": tenant_id,
                    "node_id": node_id,
                    "org_unit_id": unit_id,
                    "file_reference": f"32-{i:06d}/2026",
                    "title": f"Akte {i}",
                    "schedule_id": schedule_id,
                    "uuid": uuid.uuid4(),
                }
                for i in range(n_cases)
            ],
        )
        case_ids = list(s.scalars(select(Case.id).order_by(Case.id)))
        _bulk(
            s,
            Process,
            [
                {"tenant_id": tenant_id, "case_id": c, "number": 1, "title": "Vorgang"}
                for c in case_ids
            ],
        )
        process_ids = list(s.scalars(select(Process.id).order_by(Process.id)))
        docs = []
        for i in range(n_docs):
            inbox = i < 200
            docs.append(
                {
                    "tenant_id": tenant_id,
                    "process_id": None if inbox else process_ids[i % len(process_ids)],
                    "inbox_org_unit_id": unit_id if inbox else None,
                    "title": f"Dokument {i}",
                    "status": "ready",
                    "sha256": f"{i:064x}",
                    "source_key": f"bench:{i}",
                    "assignee_id": measured if inbox else None,
                    "assigned_at": NOW if inbox else None,
                }
            )
        _bulk(s, Document, docs)
        doc_ids = list(s.scalars(select(Document.id).where(Document.process_id.is_not(None))))
        # routes: one open step each; 1,000 of them for the measured clerk
        routes = [
            {
                "tenant_id": tenant_id,
                "case_id": case_ids[i % len(case_ids)],
                "process_id": process_ids[i % len(process_ids)],
                "document_id": doc_ids[i % len(doc_ids)],
                "author_id": author,
                "title": f"Laufweg {i}",
                "status": "active",
            }
            for i in range(n_steps)
        ]
        _bulk(s, Route, routes)
        route_ids = list(s.scalars(select(Route.id).order_by(Route.id)))
        _bulk(
            s,
            RouteStep,
            [
                {
                    "route_id": rid,
                    "group_no": 1,
                    "addressee_user_id": measured if i < 1000 else rng.choice(clerks[1:]),
                    "instruction": "mitzeichnung",
                    "deadline": TODAY + timedelta(days=rng.randint(-20, 30)),
                    "status": "current",
                    "became_current_at": NOW,
                }
                for i, rid in enumerate(route_ids)
            ],
        )
        _bulk(
            s,
            Wiedervorlage,
            [
                {
                    "tenant_id": tenant_id,
                    "case_id": case_ids[i % len(case_ids)],
                    "user_id": measured if i < 800 else rng.choice(clerks[1:]),
                    "due": TODAY - timedelta(days=rng.randint(0, 30))
                    if i < 800
                    else TODAY + timedelta(days=rng.randint(-30, 300)),
                    "note": "Wiedervorlage",
                    "created_by_id": author,
                }
                for i in range(n_wv)
            ],
        )
        print(
            f"loaded {n_cases} cases, {n_docs} documents, {n_steps} open steps, "
            f"{n_wv} Wiedervorlagen in {time.monotonic() - started:.0f} s",
            flush=True,
        )
    engine.dispose()
    return {"cases": n_cases, "documents": n_docs, "steps": n_steps, "wiedervorlagen": n_wv}


def measure(url: str, data_dir: Path, users: int, seconds: int) -> list[float]:
    from tests.fixtures.app import csrf_token
    from web import create_app

    # throwaway keys: the S3 endpoint is never contacted (the desk reads the database only)
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        s3=S3Settings(endpoint="http://127.0.0.1:1", access_key="x", secret_key="x"),  # noqa: S106  # noqa: S106 (never contacted)
        secret_key="bench",  # noqa: S106
    )
    settings.ensure_data_dir()
    engine = make_engine(url, pool_size=users + 5)
    rt = wire_ports(Runtime(settings, engine, make_session_factory(engine)))
    app = create_app(rt, {"TESTING": True})
    timings: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def user(n: int) -> None:
        client = app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        client.post(
            "/login",
            data={
                "csrf_token": token,
                "tenant": "default",
                "username": f"clerk{n}",
                "password": PASSWORD,
            },
        )
        rng = random.Random(n)
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = client.get("/schreibtisch")
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.status_code
            with lock:
                timings.append(elapsed)
            time.sleep(rng.uniform(2, 5))

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    use_cheapest_parameters()  # sign-in is not what is measured
    data_dir = Path(tempfile.mkdtemp(prefix="desk-bench-"))
    url = args.database_url or f"sqlite:///{data_dir / 'eakte.db'}"
    counts = load(url, args.scale, args.seed)
    timings = measure(url, data_dir / "data", args.users, args.seconds)
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print(
        f"desk /schreibtisch, clerk with 2,000 items, {args.users} users pausing 2-5 s, "
        f"{len(timings)} requests: p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, "
        f"p99 {q[98] * 1000:.0f} ms",
        flush=True,
    )
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as s:
        started = time.monotonic()
        result = run_nightly(s)
        print(
            f"nightly run over {counts['wiedervorlagen']} Wiedervorlagen and {counts['steps']} "
            f"open steps: {time.monotonic() - started:.2f} s ({result})",
            flush=True,
        )
    engine.dispose()


if __name__ == "__main__":
    main()
