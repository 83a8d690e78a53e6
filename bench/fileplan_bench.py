"""Benchmark: import a file plan of 2,000 nodes (issue target: under 10 s).

Generates a realistic municipal plan (3-4 levels: 10 main groups, groups, subgroups, leaves),
imports it into a fresh SQLite database (or EAKTE_DATABASE_URL) through the real service, and
prints the median of several runs.

    .venv/bin/python bench/fileplan_bench.py [--nodes 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from eakte import ports, schema
from eakte.db import make_engine, make_session_factory
from eakte.models import Role
from eakte.services import accounts, fileplan
from retention import schedules
from retention.port import RetentionService


def generate_plan(nodes: int) -> bytes:
    rows = ["code;title;parent;schedule"]
    count = 0
    for a in range(10):
        rows.append(f"{a};Hauptgruppe {a} Öffentliche Aufgaben;;")
        count += 1
        for b in range(10):
            rows.append(f"{a}{b};Gruppe {a}{b} Verwaltung;{a};Zehn Jahre")
            count += 1
            for c in range(100):
                if count >= nodes:
                    return "\n".join(rows).encode("cp1252")
                rows.append(f"{a}{b}.{c:02d};Untergruppe {a}{b}.{c:02d} Angelegenheiten;{a}{b};")
                count += 1
    return "\n".join(rows).encode("cp1252")


def run_once(data: bytes, url: str | None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        schema.upgrade(engine)
        sessions = make_session_factory(engine)
        ports.wire(sessions, retention=RetentionService())  # as the runtime does
        with sessions() as s:
            tenant = accounts.ensure_default_tenant(s)
            officer = accounts.create_user(
                s, tenant, "reg", "benchmark-password", {Role.records_officer}
            )
            schedules.create_schedule(s, officer, "Zehn Jahre", period_years=10, action="V")
            start = time.perf_counter()
            result = fileplan.import_csv(s, officer, data)
            elapsed = time.perf_counter() - start
        engine.dispose()
        assert result.created == data.count(b"\n"), result
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    data = generate_plan(args.nodes)
    times = [run_once(data, args.database_url) for _ in range(args.runs)]
    print(f"file plan import: {args.nodes} nodes, {args.runs} runs")
    print(
        f"  median {statistics.median(times):.2f} s   (min {min(times):.2f}, max {max(times):.2f})"
    )
    print(f"  {args.nodes / statistics.median(times):.0f} nodes/s   target: < 10 s")


if __name__ == "__main__":
    main()
