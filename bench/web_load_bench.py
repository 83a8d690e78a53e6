"""Web load benchmark (issue 7, Performance): the search page and the case page under clerks
who pause 2-5 s between requests, against ``eakte serve`` (waitress, the real WSGI server) on
127.0.0.1, with N documents loaded (default 100,000).

    python bench/web_load_bench.py                                  # 100,000 documents
    python bench/web_load_bench.py --docs 5000 --data-dir /tmp/wl5k  # keep the data to rerun

Set-up: a fresh installation (``eakte init``: SQLite, embedded SeaweedFS) with org units, 36
clerks, a schedule and a file plan made through the services, then N documents spread over
cases (about 8 documents per case) and three processes per case, written straight into the
tables with SQLAlchemy Core. THE DOCUMENTS ARE METADATA AND TEXT ONLY: no file bytes in S3
(neither page opens one), status "ready", marked for the index; the search index is then
built by the real indexer (``eakte reindex``). The text is the seeded Zipf corpus of German
municipal vocabulary from ``search_bench.py``; each case also gets an audit history (created,
viewed, closed) in the hash chain. With ``--data-dir`` the loaded installation is kept and
reused by the next run with the same --docs and --seed.

Load (locust in a child process, ``_web_load_users.py``): each user signs in through the login
form (CSRF token from the page) as one of the clerks, then opens either the search page
``/suche/?q=WORD`` (WORD from a fixed list of common, rarer and absent German words) or the
page of a case the clerk may open, pausing 2-5 s between requests. Phase A: 20 users for 60 s
after ramp-up: p50 (median), p95 and p99 per page and overall, and requests/s. Phase B: the
users are stepped up (20, 40, 80, 160, 320 by default) without pauses: the users of a step go on
working while the next step's users sign in; sign-ins and the ramp are not measured. It stops at
the first step whose p95 is above 1 s, or where new users time out signing in (the server took no
more connections: they wait far longer than 1 s), and names the throughput there and at the step
before.
Only measured requests (the two pages) are counted; the locust client shares the CPUs with the
server, so its CPU share is printed too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from search_bench import PLAN, UNITS, Corpus, load, percentile  # noqa: E402

PASSWORD = "web load bench password"  # noqa: S105 (a throwaway installation)
MARKER = "web-load-bench.json"
CLERKS_PER_UNIT = 4
CHUNK = 1000  # documents generated and inserted per batch
PROCESS_TITLES = ("Antrag und Prüfung", "Bescheid", "Widerspruch und Abschluss")
# Common words (thousands of hits at 100,000 documents), rarer compounds (hundreds), and words
# the corpus lacks (no hits: the page then looks for a suggestion).
WORDS = (
    "Antrag", "Bescheid", "Gebühr", "Baugenehmigung", "Hundesteuer", "Widerspruch",
    "Gewerbeanmeldung", "Grundstück", "Frist", "Mahnung", "Stellungnahme", "Ratenzahlung",
    "Photovoltaikanlage", "Winterdienstpflicht", "Schornsteinauflagen", "Fischereirecht",
    "Jagdverordnung", "Zaungenehmigung", "Bestattungsgebühren", "Vergabeordnung",
    "Zeppelin", "Hafenmeisterei", "Seilbahn", "Weinlese",
)  # fmt: skip
UNIT_NAMES = {
    "10": "Hauptamt",
    "20": "Kämmerei",
    "32": "Ordnungsamt",
    "32.2": "Sachgebiet Hundesteuer",
    "33": "Bürgeramt",
    "34": "Standesamt",
    "60": "Bauamt",
    "66": "Tiefbauamt",
    "70": "Abfallwirtschaft",
}


# --- the installation ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAKTE_")}
    env.update(
        EAKTE_DATA_DIR=str(data_dir),
        EAKTE_HOST="127.0.0.1",
        EAKTE_PORT=str(port),
        EAKTE_ADMIN_PASSWORD=PASSWORD,
        EAKTE_WORKERS="0",
        EAKTE_LOG_LEVEL="WARNING",
    )
    return env


def _eakte(env: dict[str, str], *args: str, timeout: float) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "eakte", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise SystemExit(f"eakte {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def _plan_csv() -> bytes:
    """The bench's file plan with every ancestor of its codes (``32`` above ``32.10.01``)."""
    rows, seen = ["code;title;parent;schedule;org_unit"], set()
    for code, title, unit in PLAN:
        parts = code.split(".")
        for depth in range(1, len(parts)):
            ancestor = ".".join(parts[:depth])
            if ancestor not in seen:
                seen.add(ancestor)
                parent = ".".join(parts[: depth - 1])
                rows.append(f"{ancestor};Gruppe {ancestor};{parent};;{unit.split('.')[0]}")
        seen.add(code)
        rows.append(f"{code};{title};{'.'.join(parts[:-1])};Regelfrist 10 Jahre;{unit}")
    return ("\n".join(rows) + "\n").encode()


def seed_accounts(settings) -> None:
    """Org units, clerks, a schedule and the file plan, made through the services."""
    from eakte import ports
    from eakte.db import make_engine, make_session_factory
    from eakte.models import Role
    from eakte.services import accounts, fileplan
    from retention import schedules
    from retention.port import RetentionService

    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    ports.wire(sessions, retention=RetentionService())  # as the runtime does
    with sessions() as s:
        tenant = accounts.get_tenant(s, accounts.DEFAULT_TENANT)
        admin = accounts.find_user(s, tenant, "admin")
        for code in UNITS:
            parent = code.rsplit(".", 1)[0] if "." in code else None
            accounts.add_org_unit(s, admin, code, UNIT_NAMES.get(code, f"Amt {code}"), parent)
        # the operator's path: no second holder's confirmation, no forced password change
        accounts.create_user(
            s, tenant, "registratur", PASSWORD, {Role.records_officer}, org_unit_code="10"
        )
        for code in UNITS:
            for k in range(CLERKS_PER_UNIT):
                accounts.create_user(
                    s, tenant, _clerk(code, k), PASSWORD, {Role.clerk}, org_unit_code=code
                )
        officer = accounts.find_user(s, tenant, "registratur")
        schedules.create_schedule(
            s, officer, "Regelfrist 10 Jahre", period_years=10, action="V", legal_basis="GemHVO"
        )
        fileplan.import_csv(s, officer, _plan_csv(), "web_load_bench")
    engine.dispose()


def _clerk(unit: str, k: int) -> str:
    return f"sb{unit.replace('.', '_')}_{k}"


def _midday(day: date) -> datetime:
    return datetime.combine(day, dtime(10, 0), tzinfo=UTC)


def _document_rows(args: tuple[int, int, int, int]) -> list[dict]:
    """Rows for documents ``start``..``stop`` (a worker process: the text costs CPU)."""
    docs, seed, start, stop = args
    corpus = Corpus(docs, seed)
    rows = []
    for n in range(start, stop):
        e = corpus.document(n)
        rows.append(
            {
                "id": n + 1,
                "uuid": uuid.UUID(int=random.Random(seed * 31 + n).getrandbits(128), version=4),
                "tenant_id": 1,
                "process_id": None if e.inbox else e.process_id + 1,
                "inbox_unit": UNITS[e.org_unit_id - 1] if e.inbox else None,
                "title": e.title[:500],
                "doc_type": e.doc_type,
                "correspondent": e.correspondent,
                "received_date": e.received,
                "created_at": _midday(e.received),
                "status": "ready",
                "extracted_text": e.content,
                "page_count": 1 + len(e.content) // 3000,
                "sha256": f"{n:064x}",  # unique per document; there are no bytes to hash
                "source": "web_load_bench (metadata and text only)",
                "restricted": e.restricted,
                "index_dirty": True,
            }
        )
    return rows


def load_records(settings, docs: int, seed: int, processes: int) -> None:
    """Cases, processes, documents and case histories, straight into the tables (Core)."""
    from sqlalchemy import insert, select, update

    from eakte import audit
    from eakte.db import make_engine
    from eakte.models import (
        AuditEvent,
        AuditHead,
        Case,
        Document,
        FilePlanNode,
        OrgUnit,
        Process,
        RetentionSchedule,
        User,
    )

    corpus = Corpus(docs, seed)
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        nodes = dict(conn.execute(select(FilePlanNode.code, FilePlanNode.id)).all())
        units = dict(conn.execute(select(OrgUnit.code, OrgUnit.id)).all())
        schedule_id = conn.scalar(select(RetentionSchedule.id))
        clerks = {
            unit: conn.scalar(select(User.id).where(User.username == _clerk(unit, 0)))
            for unit in UNITS
        }
        head = conn.execute(select(AuditHead.last_id, AuditHead.last_hash)).one()
        cases, processes_rows, events = [], [], []
        last_id, last_hash = head.last_id, head.last_hash
        for case_no in range(corpus.cases):
            e = corpus.case_entry(case_no)
            unit = UNITS[e.org_unit_id - 1]
            rng = random.Random(seed * 17 + case_no)
            case_uuid = uuid.UUID(int=rng.getrandbits(128), version=4)
            closed = e.closed
            cases.append(
                {
                    "id": case_no + 1,
                    "uuid": case_uuid,
                    "tenant_id": 1,
                    "node_id": nodes[e.plan_code],
                    "org_unit_id": units[unit],
                    "file_reference": e.file_reference,
                    "title": e.title,
                    "description": "",
                    "status": e.status,
                    "closed_at": closed,
                    "schedule_id": schedule_id,
                    "restricted": e.restricted,
                    "created_by_id": clerks[unit],
                    "created_at": _midday(e.created),
                    "retention_end": date(closed.year + 11, 1, 1) if closed else None,
                    "index_dirty": True,
                }
            )
            for k, title in enumerate(PROCESS_TITLES):
                processes_rows.append(
                    {
                        "id": case_no * 3 + k + 1,
                        "uuid": uuid.UUID(int=rng.getrandbits(128), version=4),
                        "tenant_id": 1,
                        "case_id": case_no + 1,
                        "number": k + 1,
                        "title": title,
                        "status": e.status,
                        "closed_at": closed,
                        "created_at": _midday(e.created),
                    }
                )
            # The case's history as the services would have written it, in the hash chain.
            history = [("create", e.created, {"file_reference": e.file_reference})]
            history += [("view", e.created, {})] * rng.randint(0, 6)
            if closed:
                history.append(("close", closed, {"closed_at": closed.isoformat()}))
            for action, day, details in history:
                last_id += 1
                event = AuditEvent(
                    id=last_id,
                    at=_midday(day).replace(tzinfo=None),
                    tenant_id=1,
                    user_id=clerks[unit],
                    username=_clerk(unit, 0),
                    action=action,
                    object_type="case",
                    object_uuid=str(case_uuid),
                    outcome="ok",
                    details=json.dumps(details, sort_keys=True, ensure_ascii=False),
                    prev_hash=last_hash,
                )
                event.hash = last_hash = audit.entry_hash(event)
                events.append({c: getattr(event, c) for c in _AUDIT_COLUMNS})
        for table, rows in ((Case, cases), (Process, processes_rows), (AuditEvent, events)):
            for i in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[i : i + 5000])
        conn.execute(update(AuditHead).values(last_id=last_id, last_hash=last_hash))
    print(f"  {len(cases)} cases, {len(processes_rows)} processes, {len(events)} audit entries")

    chunks = [(docs, seed, i, min(docs, i + CHUNK)) for i in range(0, docs, CHUNK)]
    started, written = time.monotonic(), 0
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        for rows in pool.imap(_document_rows, chunks):
            for row in rows:
                unit = row.pop("inbox_unit")
                row["inbox_org_unit_id"] = units[unit] if unit else None
            with engine.begin() as conn:
                conn.execute(insert(Document), rows)
            written += len(rows)
            if written % 20_000 < CHUNK:
                rate = written / (time.monotonic() - started)
                print(f"  {written} documents written ({rate:.0f}/s)", flush=True)
    engine.dispose()


_AUDIT_COLUMNS = (
    "id", "at", "tenant_id", "user_id", "username", "action", "object_type", "object_uuid",
    "outcome", "details", "prev_hash", "hash",
)  # fmt: skip


def build(data_dir: Path, env: dict[str, str], docs: int, seed: int, processes: int) -> None:
    from eakte.config import Settings

    settings = Settings.from_env(env)
    settings.ensure_data_dir()
    started = time.monotonic()
    print(_eakte(env, "init", timeout=300).replace("\n", "; "))
    seed_accounts(settings)
    load_records(settings, docs, seed, processes)
    loaded = time.monotonic()
    print(f"  rows written in {loaded - started:.0f} s; building the index; {load()}", flush=True)
    print("  " + _eakte(env, "reindex", timeout=4 * 3600))
    print(f"  installation ready in {time.monotonic() - started:.0f} s; {load()}")
    (data_dir / MARKER).write_text(json.dumps({"docs": docs, "seed": seed}))


def accounts_plan(env: dict[str, str], seed: int, per_clerk: int = 300) -> list[dict]:
    """Each clerk with UUIDs of cases of its unit that a clerk may open (not restricted)."""
    from sqlalchemy import select

    from eakte.config import Settings
    from eakte.db import make_engine
    from eakte.models import Case, OrgUnit

    engine = make_engine(Settings.from_env(env).database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(OrgUnit.code, Case.uuid)
            .join(OrgUnit, Case.org_unit_id == OrgUnit.id)
            .where(Case.restricted.is_(False), Case.disposal_state == "")
            .order_by(Case.id)
        ).all()
    engine.dispose()
    by_unit: dict[str, list[str]] = {}
    for unit, case_uuid in rows:
        by_unit.setdefault(unit, []).append(str(case_uuid))
    # 32.2 is beneath 32: the clerks of 32 may open its cases too.
    by_unit["32"] = by_unit.get("32", []) + by_unit.get("32.2", [])
    rng = random.Random(seed)
    plan = []
    for k in range(CLERKS_PER_UNIT):
        for unit in UNITS:
            cases = by_unit.get(unit, [])
            if cases:
                plan.append(
                    {
                        "username": _clerk(unit, k),
                        "cases": rng.sample(cases, min(per_clerk, len(cases))),
                    }
                )
    return plan


# --- the server ---------------------------------------------------------------------------------


def start_server(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = log_path.open("ab")
    # A session of its own: Ctrl-C reaches only this script, which stops the server in order.
    proc = subprocess.Popen(
        [sys.executable, "-m", "eakte", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    url = f"http://127.0.0.1:{env['EAKTE_PORT']}/login"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            raise SystemExit("eakte serve did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.5)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # serve stops its SeaweedFS itself
        try:
            proc.wait(timeout=60)
            return
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # its own process group (start_new_session)
    proc.wait(timeout=30)


# --- figures ------------------------------------------------------------------------------------


def _stats(samples: list) -> str:
    times = [t for _name, t, _ok in samples]
    if not times:
        return "no requests"
    failed = sum(1 for *_rest, ok in samples if not ok)
    return (
        f"n={len(times):5}  p50 {percentile(times, 0.5):7.1f} ms  "
        f"p95 {percentile(times, 0.95):7.1f} ms  p99 {percentile(times, 0.99):7.1f} ms  "
        f"max {max(times):7.1f} ms  failed {failed}"
    )


def _p95(samples: list) -> float:
    times = [t for _name, t, _ok in samples]
    return percentile(times, 0.95) if times else 0.0


def report(result: dict, threshold_ms: float) -> None:
    a = result["phase_a"]
    print(
        f"phase A: {a['users']} users for {a['seconds']:.0f} s: "
        f"{len(a['samples']) / a['seconds']:.2f} requests/s; server CPU {a['server_cpu']:.0%}, "
        f"locust CPU {a['locust_cpu']:.0%}, load {a['load']:.2f}"
    )
    for page in ("search page", "case page"):
        print(f"  {page:12} {_stats([s for s in a['samples'] if s[0] == page])}")
    print(f"  {'overall':12} {_stats(a['samples'])}   (target p95 <= 300 ms per page)")
    signins = _stats([("", t, ok) for t, ok in a["signins"]])
    print(f"  {'sign-ins':12} {signins}   (during the ramp, before the window)")
    print(
        f"phase B: users stepped up without pauses, {result['steps'][0]['seconds']:.0f} s "
        "measured per step after its sign-ins"
        if result["steps"]
        else "phase B: no steps"
    )
    crossed = None
    for i, step in enumerate(result["steps"]):
        rate = len(step["samples"]) / step["seconds"]
        per_page = ", ".join(
            f"{page.split()[0]} p95 {_p95([s for s in step['samples'] if s[0] == page]):.0f} ms"
            for page in ("search page", "case page")
        )
        print(
            f"  {step['users']:4} users: {rate:6.2f} requests/s  {_stats(step['samples'])}  "
            f"({per_page}; server CPU {step['server_cpu']:.0%}, locust CPU "
            f"{step['locust_cpu']:.0%}, load {step['load']:.2f}; "
            f"{len(step['signins'])} sign-ins before it, "
            f"max {max((t for t, _ok in step['signins']), default=0):.0f} ms)"
        )
        # Users who could not even sign in waited past the client's timeout: the server is
        # saturated whatever the p95 of those who got through says.
        refused = sum(1 for _t, ok in step["signins"] if not ok)
        if refused:
            print(
                f"         {refused} of {len(step['signins'])} new users could not sign in "
                "(timed out): counted as p95 above the threshold"
            )
        if crossed is None and (refused or _p95(step["samples"]) > threshold_ms):
            crossed = i
    if crossed is None:
        print(f"p95 stayed <= {threshold_ms:.0f} ms up to the last step")
    else:
        step = result["steps"][crossed]
        refused = sum(1 for _t, ok in step["signins"] if not ok)
        why = f", {refused} users timed out signing in" if refused else ""
        line = (
            f"p95 crosses {threshold_ms:.0f} ms at {step['users']} users "
            f"(p95 {_p95(step['samples']):.0f} ms{why}): "
            f"{len(step['samples']) / step['seconds']:.2f} requests/s"
        )
        if crossed:
            before = result["steps"][crossed - 1]
            line += (
                f"; the step before ({before['users']} users, p95 {_p95(before['samples']):.0f} "
                f"ms): {len(before['samples']) / before['seconds']:.2f} requests/s"
            )
        print(line)
    if result.get("errors"):
        print("errors (whole run, sign-ins included):")
        for key, count in sorted(result["errors"].items(), key=lambda kv: -kv[1])[:10]:
            print(f"  {count:5}x {key}")


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=100_000, help="documents to load")
    parser.add_argument("--seed", type=int, default=5, help="corpus and user seed")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep the installation here and reuse it next time (default: a temporary dir)",
    )
    parser.add_argument("--users", type=int, default=20, help="phase A: concurrent users")
    parser.add_argument("--duration", type=float, default=60, help="phase A: seconds measured")
    parser.add_argument(
        "--steps", default="20,40,80,160,320", help="phase B: user counts, comma-separated"
    )
    parser.add_argument("--step-duration", type=float, default=30, help="seconds measured/step")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users signed in per second")
    parser.add_argument("--settle", type=float, default=5, help="seconds after ramp, unmeasured")
    parser.add_argument("--threshold-ms", type=float, default=1000, help="phase B stops above")
    parser.add_argument("--processes", type=int, default=2, help="corpus generator processes")
    args = parser.parse_args(argv)

    work = args.data_dir or Path(tempfile.mkdtemp(prefix="web-load-bench-"))
    data_dir = work.resolve()
    env = _env(data_dir, _free_port())
    print(f"web load benchmark: {args.docs} documents, seed {args.seed}; {load()}")
    server = None
    try:
        marker = data_dir / MARKER
        if marker.exists():
            kept = json.loads(marker.read_text())
            if kept != {"docs": args.docs, "seed": args.seed}:
                raise SystemExit(
                    f"{data_dir} holds {kept}, not --docs {args.docs} --seed {args.seed}"
                )
            print(f"reusing the installation in {data_dir}")
        elif data_dir.exists() and any(data_dir.iterdir()):
            raise SystemExit(f"{data_dir} is not empty and not a web_load_bench installation")
        else:
            print(f"loading a fresh installation in {data_dir}")
            build(data_dir, env, args.docs, args.seed, args.processes)

        plan = {
            "url": f"http://127.0.0.1:{env['EAKTE_PORT']}",
            "password": PASSWORD,
            "seed": args.seed,
            "words": list(WORDS),
            "accounts": accounts_plan(env, args.seed),
            "phase_a": {
                "users": args.users,
                "seconds": args.duration,
                "spawn_rate": args.spawn_rate,
                "settle": args.settle,
            },
            "phase_b": {
                "steps": [int(s) for s in args.steps.split(",") if s.strip()],
                "seconds": args.step_duration,
                "spawn_rate": args.spawn_rate,
                "settle": args.settle,
                "threshold_ms": args.threshold_ms,
            },
        }
        server = start_server(env, data_dir / "serve.log")
        plan["server_pid"] = server.pid
        plan_path, result_path = data_dir / "load-plan.json", data_dir / "load-result.json"
        plan_path.write_text(json.dumps(plan))
        result_path.unlink(missing_ok=True)
        print(
            f"eakte serve (waitress) on {plan['url']}, pid {server.pid}; "
            f"{len(plan['accounts'])} clerk accounts; {load()}",
            flush=True,
        )
        subprocess.run(
            [sys.executable, str(HERE / "_web_load_users.py"), str(plan_path), str(result_path)],
            check=True,
            timeout=3600,
        )
        report(json.loads(result_path.read_text()), args.threshold_ms)
        print(f"done; {load()}")
    finally:
        if server is not None:
            stop_server(server)
        if not args.data_dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
