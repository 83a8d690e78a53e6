"""Benchmark: a paper archive migration (issue 21) of born-digital documents through the
migration manifest.

Default: 10,000 old cases with 50,000 one-page born-digital PDFs (5 per case, 2 processes
each), in boxes of 100 cases, half of them closed long enough ago to be due at once. A fresh
installation in /tmp with the embedded defaults (SQLite, embedded SeaweedFS, Huey on SQLite);
``eakte migration prepare`` (scanner), ``approve`` (records officer) and ``run`` (scanner) are
timed; the run's figures are documents/s of the whole run (intake of every file, then each case
created, filed and closed, then the closed cases' object locks) and the peak resident memory of
the run and of SeaweedFS, sampled four times a second. Text, OCR and indexing follow in
``eakte worker`` and are not part of it (see bench.ingest_born_digital_bench for those).

    .venv/bin/python -m bench.migration_bench [--cases 10000] [--per-case 5] [--jobs 4]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bench._ingest_setup import PASSWORD, MemoryWatch, installation, load, stop
from bench.ingest_born_digital_bench import template
from eakte.db import make_engine
from eakte.models import User
from eakte.services import accounts

PLAN = "code;title;parent;schedule\n32;Ordnung;;\n32.10;Gewerbe;32;Gewerbe 10 Jahre\n"
HEADER = "box;reference;case_title;plan;opened;closed;process;file;title;date;doc_type;sender\n"


def generate(inst, cases: int, per_case: int) -> tuple[str, int]:
    """The scans and the manifest (per section: case fields on a case's first line only)."""
    base = template(1)
    root = inst.files / "keller"
    lines = [HEADER]
    files = 0
    for case in range(cases):
        box = f"Regal {case // 1000:02d} / Karton {case // 100:04d}"
        year = 1980 + case % 40
        folder = root / f"{case // 100:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        closed = f"{year}-11-30" if case % 2 == 0 else ""
        for n in range(per_case):
            name = f"{case // 100:04d}/akte{case:06d}-{n}.pdf"
            (root / name).write_bytes(base.replace(b"DOC0000000", f"D{case:06d}-{n:02d}".encode()))
            first = n == 0
            fields = (
                [f"Akte {case} Gewerbe", "32.10", f"{year}-01-15", closed]
                if first
                else ["", "", "", ""]
            )
            reference = f"III/32-{case:06d}/{year % 100:02d}"
            document = [name, f"Schreiben {n}", f"{year}-02-{n + 1:02d}", "Brief", "Bürger"]
            row = [box, reference, *fields, f"Vorgang {n % 2 + 1}", *document]
            lines.append(";".join(row) + "\n")
            files += 1
    (inst.data_dir / "manifest.csv").write_text("".join(lines), encoding="utf-8")
    return str(root), files


def own_password(inst, username: str) -> None:
    """What the officer does at the first sign-in: set their own password (the operator's one
    works once), which the approval from the command line asks for."""
    engine = make_engine(f"sqlite:///{inst.data_dir / 'eakte.db'}")
    try:
        with Session(engine) as session:
            user = session.scalar(select(User).where(User.username == username))
            accounts.change_password(session, user, None, PASSWORD)
    finally:
        engine.dispose()


def phases(inst) -> list[tuple[str, float]]:
    """Where the run's time went, from the audit trail: taking the files in (up to the first
    case), bringing the cases in (up to "migration_done"); the locks follow after that."""
    engine = make_engine(f"sqlite:///{inst.data_dir / 'eakte.db'}")
    try:
        with engine.connect() as conn:
            start, first_case, done = (
                conn.execute(text(query)).scalar_one()
                for query in (
                    "SELECT min(at) FROM audit_event WHERE action = 'migration_start'",
                    "SELECT min(at) FROM audit_event WHERE action = 'create' "
                    "AND object_type = 'case'",
                    "SELECT max(at) FROM audit_event WHERE action = 'migration_done'",
                )
            )
    finally:
        engine.dispose()
    at = [datetime.fromisoformat(str(v)) for v in (start, first_case, done)]
    return [
        ("taking the files in", (at[1] - at[0]).total_seconds()),
        ("cases created, filed, closed", (at[2] - at[1]).total_seconds()),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--per-case", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=4, help="eakte migration run -j N")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    args = parser.parse_args()

    with installation("eakte-bench-migration-", keep=args.keep) as inst:
        inst.eakte("orgunit", "add", "10", "Hauptamt")
        officer = [
            "user",
            "add",
            "registratur",
            "--role",
            "records_officer",
            "--org-unit",
            "10",
            "--operator",
        ]
        inst.eakte(*officer, "--password-stdin", input=PASSWORD + "\n")
        own_password(inst, "registratur")
        schedule = ["retention", "schedule", "add", "Gewerbe 10 Jahre", "--years", "10"]
        inst.eakte(*schedule, "--action", "V", "--user", "registratur")
        (inst.data_dir / "plan.csv").write_text(PLAN)
        inst.eakte("fileplan", "import", str(inst.data_dir / "plan.csv"), "--user", "registratur")
        root, files = generate(inst, args.cases, args.per_case)
        manifest = str(inst.data_dir / "manifest.csv")
        print(f"paper archive migration: {args.cases} cases, {files} born-digital documents")
        print(f"  before: {load()}")
        started = time.monotonic()
        inst.eakte("migration", "prepare", "Keller", manifest, "--folder", root, "--user", "scan")
        prepared = time.monotonic()
        approve = ["migration", "approve", "Keller", "--user", "registratur", "--password-stdin"]
        inst.eakte(*approve, input=PASSWORD + "\n")
        with MemoryWatch([inst.server.pid]) as memory:
            run_start = time.monotonic()
            runner = inst.start(
                "migration", "run", "Keller", root, "--user", "scan", "-j", str(args.jobs),
                log="run",
            )  # fmt: skip
            memory.add(runner.pid)
            try:
                runner.wait(timeout=7200)
            finally:
                stop(runner)
            ran = time.monotonic()
        if runner.returncode != 0:
            raise SystemExit(
                f"eakte migration run failed: {(inst.data_dir / 'run.err').read_text()}"
            )
        print(f"  documents: {inst.counts()}")
        print(f"  prepare (check the manifest and {files} files): {prepared - started:7.1f} s")
        print(f"  run (intake, cases, locks):   {ran - run_start:7.1f} s  "
              f"({files / (ran - run_start):6.1f} documents/s, "
              f"{args.cases / (ran - run_start):6.1f} cases/s)")  # fmt: skip
        for phase, seconds in phases(inst):
            print(f"    {phase:28} {seconds:7.1f} s")
        name, peak = memory.peak
        print(f"  peak RSS of any process: {peak / 2**20:6.0f} MB ({name})")
        for key, value in sorted(memory.peaks.items(), key=lambda kv: -kv[1])[:4]:
            print(f"    {key:24} {value / 2**20:6.0f} MB")
        print(f"  after: {load()}")
        print((inst.data_dir / "run.out").read_text()[-600:])


if __name__ == "__main__":
    main()
