"""Benchmark: crash safety of the ingest pipeline (issue 4).

A 1,000-document import is interrupted by ``kill -9`` ten times: in each round ``eakte import``
and ``eakte worker`` are started and each is killed (with everything it started) at its own
random moment. Then the import is run again to the end and the worker until nothing is left.
Target: every document exactly once, nothing lost, ``eakte verify`` clean (no orphaned or
missing objects, audit chain intact, transfer notes matching).

    .venv/bin/python -m bench.ingest_crash_bench [--docs 1000] [--kills 10] [--seed 7]
        [--through-worker]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import signal
import time

from sqlalchemy import text

from bench._ingest_setup import installation, load, stop, wait_for
from bench.ingest_born_digital_bench import generate
from eakte.db import make_engine


def tally(inst) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{inst.data_dir / 'eakte.db'}")
    with engine.connect() as conn:
        one = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT source_key), count(DISTINCT sha256),"
                " sum(duplicate_of_id IS NOT NULL), sum(status = 'ready')"
                " FROM document"
            )
        ).one()
        quarantined = conn.execute(text("SELECT count(*) FROM quarantined_file")).scalar()
        objects = conn.execute(text("SELECT count(*) FROM stored_object")).scalar()
    engine.dispose()
    return {
        "documents": one[0],
        "distinct sources": one[1],
        "distinct contents": one[2],
        "duplicates": one[3] or 0,
        "ready": one[4] or 0,
        "quarantined": quarantined,
        "stored objects": objects,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--through-worker",
        action="store_true",
        help="process every document in the worker (EAKTE_INGEST_TEXT_AT_INTAKE_PAGES=0); "
        "by default born-digital PDFs are finished at intake",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with installation("eakte-bench-crash-") as inst:
        if args.through_worker:
            inst.env["EAKTE_INGEST_TEXT_AT_INTAKE_PAGES"] = "0"
        source = inst.files / "archive"
        generate(source, args.docs, 3)
        where = "the worker" if args.through_worker else "intake"
        print(f"crash safety: {args.docs} documents (text read at {where}), "
              f"{args.kills} rounds of kill -9")  # fmt: skip
        print(f"  before: {load()}")
        for round_no in range(1, args.kills + 1):
            before = tally(inst)
            worker = inst.start("worker", "-w", "2", log="worker")
            importer = inst.start("import", str(source), "--user", "scan", log="import")
            # Each is killed at a random moment once it is at work (documents coming in,
            # documents becoming ready); the order alternates.
            busy = {
                "import": lambda b=before: tally(inst)["documents"] > b["documents"],
                "worker": lambda b=before: tally(inst)["ready"] > b["ready"],
            }
            order = [("import", importer), ("worker", worker)]
            killed = []
            for name, process in order if round_no % 2 else order[::-1]:
                at_work = busy[name]
                with contextlib.suppress(TimeoutError):
                    wait_for(lambda p=process, w=at_work: p.poll() is not None or w(), 60, 0.05)
                time.sleep(rng.uniform(0.0, 3.0))
                if process.poll() is None:
                    stop(process, signal.SIGKILL)
                    killed.append(name)
                else:
                    stop(process)
            counts = tally(inst)
            print(f"  round {round_no:2}: killed {' and '.join(killed) or 'nothing'}; "
                  f"{counts['documents']} in, {counts['ready']} ready")  # fmt: skip
        worker = inst.start("worker", "-w", "2", log="worker")
        try:
            inst.eakte("import", str(source), "--user", "scan")
            wait_for(lambda: tally(inst)["ready"] >= args.docs, 1800)
            time.sleep(1)
        finally:
            stop(worker)
        counts = tally(inst)
        verify = inst.eakte("verify", check=False)
        print(f"  after the final run: {counts}")
        exact = (
            counts["documents"] == counts["distinct sources"] == counts["distinct contents"]
            == counts["ready"] == counts["stored objects"] == args.docs
            and counts["duplicates"] == counts["quarantined"] == 0
        )  # fmt: skip
        print(f"  every document exactly once: {'yes' if exact else 'NO'}")
        print(f"  eakte verify: exit {verify.returncode}: {verify.stdout.strip().splitlines()[-1]}")
        if verify.returncode:
            print(verify.stdout)
        print(f"  after: {load()}")


if __name__ == "__main__":
    main()
